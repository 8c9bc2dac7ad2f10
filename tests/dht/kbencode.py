"""Bencode and KRPC decoding for the DHT test harness (swarm, probe)."""

def bdecode(buf):
    """Decode one bencoded value that fills buf; raise ValueError otherwise."""
    def dec(i):
        c = buf[i:i + 1]
        if c == b'i':
            j = buf.index(b'e', i)
            return int(buf[i + 1:j]), j + 1
        if c == b'l':
            i += 1
            out = []
            while buf[i:i + 1] != b'e':
                v, i = dec(i)
                out.append(v)
            return out, i + 1
        if c == b'd':
            i += 1
            out = {}
            while buf[i:i + 1] != b'e':
                k, i = dec(i)
                if not isinstance(k, bytes):
                    raise ValueError('non-string key')
                out[k], i = dec(i)
            return out, i + 1
        if c.isdigit():
            j = buf.index(b':', i)
            n = int(buf[i:j])
            if j + 1 + n > len(buf):
                raise ValueError('short string')
            return buf[j + 1:j + 1 + n], j + 1 + n
        raise ValueError('bad byte at %d' % i)
    try:
        v, end = dec(0)
    except (IndexError, ValueError) as e:
        raise ValueError(str(e))
    if end != len(buf):
        raise ValueError('trailing bytes')
    return v


def bencode(v):
    if isinstance(v, int):
        return b'i%de' % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b'%d:%s' % (len(v), v)
    if isinstance(v, list):
        return b'l' + b''.join(bencode(x) for x in v) + b'e'
    if isinstance(v, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, x) for k, x in v.items())
        return b'd' + b''.join(bencode(k) + bencode(x) for k, x in items) + b'e'
    raise TypeError(type(v))


def krpc(raw):
    """A datagram as a dict, or None when it is not a bencoded dict."""
    try:
        m = bdecode(raw)
    except ValueError:
        return None
    return m if isinstance(m, dict) else None


