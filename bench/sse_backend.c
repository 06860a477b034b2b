/* A minimal, fast OpenAI-compatible streaming backend for benchmarks, so the
 * figures measure the paths in front of it rather than a Python server.
 *
 *   sse_backend PORT
 * POST /v1/chat/completions answers an SSE stream of N chunks with G
 * microseconds between them, then [DONE]. N and G come from the request body
 * ("tokens=N gapus=G" anywhere in it, e.g. in the last message), so every
 * path in front sends the very same request. One thread per connection. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static long header_value(const char *hdrs, const char *name, long def)
{
    const char *p = hdrs;
    size_t n = strlen(name);

    while ((p = strchr(p, '\n')) != NULL) {
        p++;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            return strtol(p + n + 1, NULL, 10);
        }
    }
    return def;
}

static long body_value(const char *body, const char *name, long def)
{
    const char *p = strstr(body, name);
    return p ? strtol(p + strlen(name), NULL, 10) : def;
}

static int write_all(int fd, const char *b, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w <= 0) {
            return -1;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One request from buf (have bytes read so far, more read as needed); its
 * answer in chunked encoding so the connection can be kept alive, as real
 * backends (uvicorn) and mod_proxy_http's connection pool do. Returns the
 * bytes of buf consumed, or -1 to close. */
static long serve_one(int fd, char *buf, size_t cap, size_t *have)
{
    char chunk[300], *end = NULL;
    long clen, tokens, gap, i, used;
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                               "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n";

    buf[*have] = '\0';
    while (!(end = strstr(buf, "\r\n\r\n"))) {
        ssize_t r;
        if (*have >= cap - 1 || (r = read(fd, buf + *have, cap - 1 - *have)) <= 0) {
            return -1;
        }
        *have += (size_t)r;
        buf[*have] = '\0';
    }
    clen = header_value(buf, "Content-Length", 0);
    used = (long)(end + 4 - buf) + clen;
    while ((long)*have < used) {
        ssize_t r;
        if (*have >= cap - 1 || (r = read(fd, buf + *have, cap - 1 - *have)) <= 0) {
            return -1;
        }
        *have += (size_t)r;
        buf[*have] = '\0';
    }
    tokens = body_value(end, "tokens=", 2000);
    gap = body_value(end, "gapus=", 0);
    if (write_all(fd, head, sizeof(head) - 1)) {
        return -1;
    }
    for (i = 0; i <= tokens; i++) {
        char data[256];
        int n = i < tokens
            ? snprintf(data, sizeof(data),
                       "data: {\"id\":\"b\",\"object\":\"chat.completion.chunk\","
                       "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok%ld \"},"
                       "\"finish_reason\":null}]}\n\n", i)
            : snprintf(data, sizeof(data), "data: [DONE]\n\n");
        int m = snprintf(chunk, sizeof(chunk), "%x\r\n%s\r\n", n, data);
        if (write_all(fd, chunk, (size_t)m)) {
            return -1;
        }
        if (gap > 0 && i < tokens) {
            usleep((useconds_t)gap);
        }
    }
    if (write_all(fd, "0\r\n\r\n", 5)) {
        return -1;
    }
    return used;
}

static void *serve(void *arg)
{
    int fd = (int)(long)arg, one = 1;
    char buf[65536];
    size_t have = 0;
    long used;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    while ((used = serve_one(fd, buf, sizeof(buf), &have)) > 0) {
        memmove(buf, buf + used, have - (size_t)used);
        have -= (size_t)used;
    }
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    struct sockaddr_in a;
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(argc > 1 ? (unsigned short)atoi(argv[1]) : 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4096)) {
        perror("sse_backend");
        return 1;
    }
    for (;;) {
        pthread_t t;
        int c = accept(s, NULL, NULL);
        if (c < 0) {
            continue;
        }
        pthread_create(&t, NULL, serve, (void *)(long)c);
        pthread_detach(t);
    }
}
