/* udp-batch.c: what batching UDP system calls would save per DNS-sized datagram on loopback.
 *
 *   cc -O2 -o /tmp/udp-batch benchmarks/lab/udp-batch.c && /tmp/udp-batch
 *
 * Sends 200,000 datagrams of 42 bytes (an MX query with EDNS) from a connected UDP socket to a
 * socket on 127.0.0.1 and receives them, once with one send() and one recv() per datagram and
 * once with sendmmsg()/recvmmsg() of 64 at a time; prints CPU µs per datagram for both.
 * Touches only 127.0.0.1. docs/benchmarks.md §1 has the figures. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static double cpu(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

int main(void) {
    enum { N = 200000, BATCH = 64 };
    int receiver = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    if (bind(receiver, (void *)&addr, sizeof addr) || getsockname(receiver, (void *)&addr, &len)) {
        perror("bind");
        return 1;
    }
    int big = 1 << 20;
    setsockopt(receiver, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    int sender = socket(AF_INET, SOCK_DGRAM, 0);
    if (connect(sender, (void *)&addr, sizeof addr)) {
        perror("connect");
        return 1;
    }
    char out[42] = {0}, in[BATCH][512];

    double t0 = cpu();
    for (int i = 0; i < N; i++) {
        send(sender, out, sizeof out, 0);
        if (i % BATCH == BATCH - 1)
            while (recv(receiver, in[0], sizeof in[0], MSG_DONTWAIT) > 0) {}
    }
    double single = (cpu() - t0) / N * 1e6;

    struct mmsghdr sm[BATCH], rm[BATCH];
    struct iovec sv[BATCH], rv[BATCH];
    for (int k = 0; k < BATCH; k++) {
        sv[k] = (struct iovec){.iov_base = out, .iov_len = sizeof out};
        rv[k] = (struct iovec){.iov_base = in[k], .iov_len = sizeof in[k]};
        memset(&sm[k], 0, sizeof sm[k]);
        memset(&rm[k], 0, sizeof rm[k]);
        sm[k].msg_hdr.msg_iov = &sv[k];
        sm[k].msg_hdr.msg_iovlen = 1;
        rm[k].msg_hdr.msg_iov = &rv[k];
        rm[k].msg_hdr.msg_iovlen = 1;
    }
    t0 = cpu();
    for (int i = 0; i < N; i += BATCH) {
        sendmmsg(sender, sm, BATCH, 0);
        while (recvmmsg(receiver, rm, BATCH, MSG_DONTWAIT, 0) > 0) {}
    }
    double batched = (cpu() - t0) / N * 1e6;
    printf("send + recv per datagram: %.2f us CPU; sendmmsg + recvmmsg (%d): %.2f us CPU\n", single, BATCH, batched);
    return 0;
}
