/*
 * fuzz_http: one input = a request head for http_parse_request (http.h).
 * Invariants: the status is 0, 400, 404, 405 or 505; on 0 the path is a
 * NUL-terminated copy of the request target up to any '?', starts with
 * '/', holds no byte <= ' ' or >= 0x7f, fits the buffer, and the method
 * was GET or HEAD (head_only exactly for HEAD).
 */
#include <stdbool.h>
#include <string.h>

#include "app/http.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	bool head = false;
	int st = http_parse_request((const char *)data, size, &head, path, sizeof(path));

	REQUIRE(st == 0 || st == 400 || st == 404 || st == 405 || st == 505);
	if (st != 0)
		return 0;
	size_t pl = strlen(path);
	REQUIRE(pl < sizeof(path) && path[0] == '/');
	for (size_t i = 0; i < pl; i++)
		REQUIRE((unsigned char)path[i] > ' ' && (unsigned char)path[i] < 0x7f && path[i] != '?');
	REQUIRE(head ? size >= 5 && memcmp(data, "HEAD ", 5) == 0 : size >= 4 && memcmp(data, "GET ", 4) == 0);
	REQUIRE(memcmp(data + (head ? 5 : 4), path, pl) == 0);
	return 0;
}
