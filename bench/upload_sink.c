/* A minimal HTTP/1.1 sink for bench/upload_bench.py: reads each request body
 * (Content-Length or chunked) into one reused buffer, counts it and answers
 * {"message": "Ingested 1 documents", "bytes": N}. A fork per connection, so
 * it is never the bottleneck of an upload benchmark.
 *
 *     upload_sink PORT      (0: any free port; prints PORT=<n> on stdout) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUF_SIZE (1024 * 1024)

typedef struct {
    int fd;
    char *buf;
    size_t start, end;
} reader;

static int fill(reader *rd)
{
    ssize_t n;

    if (rd->start == rd->end) {
        rd->start = rd->end = 0;
    }
    else if (rd->start > 0 && rd->end == BUF_SIZE) {
        memmove(rd->buf, rd->buf + rd->start, rd->end - rd->start);
        rd->end -= rd->start;
        rd->start = 0;
    }
    if (rd->end == BUF_SIZE) {
        return -1;
    }
    do {
        n = read(rd->fd, rd->buf + rd->end, BUF_SIZE - rd->end);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        return -1;
    }
    rd->end += (size_t)n;
    return 0;
}

/* A line ending in LF, NUL-terminated in place (CR removed); NULL at EOF. */
static char *read_line(reader *rd)
{
    for (;;) {
        char *nl = memchr(rd->buf + rd->start, '\n', rd->end - rd->start);
        if (nl) {
            char *line = rd->buf + rd->start;
            *nl = '\0';
            if (nl > line && nl[-1] == '\r') {
                nl[-1] = '\0';
            }
            rd->start = (size_t)(nl - rd->buf) + 1;
            return line;
        }
        if (fill(rd)) {
            return NULL;
        }
    }
}

/* Discards n body bytes; returns 0, or -1 when the connection ended early. */
static int skip(reader *rd, unsigned long long n)
{
    while (n) {
        size_t have = rd->end - rd->start;
        if (!have) {
            if (fill(rd)) {
                return -1;
            }
            continue;
        }
        if (have > n) {
            have = (size_t)n;
        }
        rd->start += have;
        n -= have;
    }
    return 0;
}

static void answer(int fd, int status, unsigned long long bytes)
{
    char body[128], head[256];
    int bn = snprintf(body, sizeof(body), "{\"message\": \"Ingested 1 documents\", \"bytes\": %llu}",
                      bytes);
    int hn = snprintf(head, sizeof(head),
                      "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                      "Content-Length: %d\r\nConnection: close\r\n\r\n",
                      status, status == 200 ? "OK" : "Bad Request", bn);

    if (write(fd, head, (size_t)hn) != hn || write(fd, body, (size_t)bn) != bn) {
        return;
    }
}

static void serve(int fd)
{
    static char buf[BUF_SIZE];
    reader rd = { fd, buf, 0, 0 };
    unsigned long long length = 0, total = 0;
    int chunked = 0;
    char *line;

    if (!read_line(&rd)) {
        return;
    }
    while ((line = read_line(&rd)) && *line) {
        if (strncasecmp(line, "Content-Length:", 15) == 0) {
            length = strtoull(line + 15, NULL, 10);
        }
        else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 && strstr(line, "chunked")) {
            chunked = 1;
        }
    }
    if (!line) {
        return;
    }
    if (chunked) {
        for (;;) {
            unsigned long long n;
            if (!(line = read_line(&rd))) {
                return;
            }
            n = strtoull(line, NULL, 16);
            if (!n) {
                while ((line = read_line(&rd)) && *line) {
                    /* trailers */
                }
                break;
            }
            if (skip(&rd, n) || !read_line(&rd)) {
                return;
            }
            total += n;
        }
    }
    else {
        if (skip(&rd, length)) {
            return;
        }
        total = length;
    }
    answer(fd, 200, total);
}

int main(int argc, char **argv)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int one = 1, ls = socket(AF_INET, SOCK_STREAM, 0);

    if (ls < 0) {
        return 1;
    }
    signal(SIGCHLD, SIG_IGN);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)(argc > 1 ? atoi(argv[1]) : 0));
    if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 64)
        || getsockname(ls, (struct sockaddr *)&a, &alen)) {
        perror("upload_sink");
        return 1;
    }
    printf("PORT=%d\n", ntohs(a.sin_port));
    fflush(stdout);
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR) {
                continue;
            }
            return 1;
        }
        if (fork() == 0) {
            close(ls);
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            serve(fd);
            close(fd);
            _exit(0);
        }
        close(fd);
    }
}
