/* The request-line parser of the /metrics server (http.h). */
#include <stdlib.h>
#include <string.h>

#include "app/http.h"
#include "t.h"

static int
parse(const char *req, bool *head, char *path)
{
	return http_parse_request(req, strlen(req), head, path, 64);
}

void
test_http(void)
{
	bool head = false;
	char path[64];

	CHECK("GET /metrics", parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &head, path) == 0 &&
	                           strcmp(path, "/metrics") == 0 && !head);
	CHECK("HEAD, HTTP/1.0, LF only", parse("HEAD /healthz HTTP/1.0\n\n", &head, path) == 0 &&
	                                     strcmp(path, "/healthz") == 0 && head);
	CHECK("query string dropped", parse("GET /metrics?x=1 HTTP/1.1\r\n\r\n", &head, path) == 0 &&
	                                  strcmp(path, "/metrics") == 0);
	CHECK("POST: 405", parse("POST /metrics HTTP/1.1\r\n\r\n", &head, path) == 405);
	CHECK("get (lower case): 405", parse("get /metrics HTTP/1.1\r\n\r\n", &head, path) == 405);
	CHECK("HTTP/2.0: 505", parse("GET / HTTP/2.0\r\n\r\n", &head, path) == 505);
	CHECK("no version: 400", parse("GET /metrics\r\n\r\n", &head, path) == 400);
	CHECK("two spaces: 400", parse("GET  /metrics HTTP/1.1\r\n\r\n", &head, path) == 400);
	CHECK("not absolute: 400", parse("GET metrics HTTP/1.1\r\n\r\n", &head, path) == 400);
	CHECK("control byte in path: 400", parse("GET /a\x01 HTTP/1.1\r\n\r\n", &head, path) == 400);
	CHECK("no line end: 400", http_parse_request("GET / HTTP/1.1", 14, &head, path, 64) == 400);
	char lng[200];
	memset(lng, 'a', sizeof(lng));
	memcpy(lng, "GET /", 5);
	memcpy(lng + 150, " HTTP/1.1\r\n\r\n", 14);
	CHECK("a path longer than ours: 404", http_parse_request(lng, 164, &head, path, 64) == 404);
	CHECK("empty: 400", http_parse_request("", 0, &head, path, 64) == 400);
}
