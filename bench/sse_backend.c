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

static void *serve(void *arg)
{
    int fd = (int)(long)arg, one = 1;
    char buf[65536], chunk[256];
    size_t have = 0;
    char *end = NULL;
    long clen, tokens, gap, i;
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                               "Cache-Control: no-cache\r\nConnection: close\r\n\r\n";

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    while (!end && have < sizeof(buf) - 1) {
        ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);
        if (r <= 0) {
            goto leave;
        }
        have += (size_t)r;
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end) {
        goto leave;
    }
    clen = header_value(buf, "Content-Length", 0);
    /* Read the whole (small) request body after the headers. */
    while ((long)(have - (size_t)(end + 4 - buf)) < clen && have < sizeof(buf) - 1) {
        ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);
        if (r <= 0) {
            goto leave;
        }
        have += (size_t)r;
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    tokens = body_value(end, "tokens=", 2000);
    gap = body_value(end, "gapus=", 0);
    if (write_all(fd, head, sizeof(head) - 1)) {
        goto leave;
    }
    for (i = 0; i < tokens; i++) {
        int n = snprintf(chunk, sizeof(chunk),
                         "data: {\"id\":\"b\",\"object\":\"chat.completion.chunk\","
                         "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok%ld \"},"
                         "\"finish_reason\":null}]}\n\n", i);
        if (write_all(fd, chunk, (size_t)n)) {
            goto leave;
        }
        if (gap > 0) {
            usleep((useconds_t)gap);
        }
    }
    write_all(fd, "data: [DONE]\n\n", 14);
leave:
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
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 512)) {
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
