/* haproxy: the balancer in front of the hosts of `sttbench replicas` and
 * `sttbench shapes`, routing as the model (lib/lab/queueing.h) says:
 *
 * - STT_ROUTING_RANDOM: `balance random(1)`, each request to a server drawn
 *   uniformly, no queue in haproxy (a Kubernetes Service through kube-proxy's
 *   iptables rules). random(1), because plain `random` draws two servers and
 *   takes the less loaded one;
 * - STT_ROUTING_ROUNDROBIN: `balance roundrobin`, no queue in haproxy (IPVS);
 * - STT_ROUTING_CENTRAL: `balance leastconn` with `maxconn W` per server, so
 *   haproxy holds every request beyond the servers' W workers in one FIFO
 *   queue and hands each to the first worker that frees up: one queue in
 *   front of k x W servers.
 *
 * `option http-server-close` gives every request a fresh connection to its
 * server, so the choice is made per request, as kube-proxy makes it per
 * connection for clients that open one per request. No health checks: every
 * server answered /ready before haproxy starts, and a check would take a
 * slot of maxconn. The process is registered with lib/lab/netns.h (its
 * teardown ends it), its configuration and log live in the run's temporary
 * folder. One stt_haproxy per thread.
 */
#ifndef STT_HAPROXY_H
#define STT_HAPROXY_H

#include <stdio.h>

#include "cpulimit.h"
#include "queueing.h"

#define STT_HAPROXY_MAX 16 /* servers */

typedef struct stt_haproxy_params {
    int nservers;                       /* 1..STT_HAPROXY_MAX */
    const char *addrs[STT_HAPROXY_MAX]; /* the servers' addresses, borrowed */
    int server_port;                    /* the port every server listens on */
    stt_routing routing;                /* STT_ROUTING_RANDOM */
    int workers;                        /* per server: maxconn of STT_ROUTING_CENTRAL (1) */
    int timeout_s;                      /* client, server and queue timeouts (120) */
    const stt_cpulimit *limit;          /* its CPUs; NULL: unrestricted */
} stt_haproxy_params;

stt_haproxy_params stt_haproxy_default_params(void);

/* Writes the configuration for p listening on 127.0.0.1:listen_port to f.
 * Returns 0, or STT_EINVAL for bad params. */
int stt_haproxy_config(const stt_haproxy_params *p, int listen_port, FILE *f);

typedef struct stt_haproxy stt_haproxy;

/* Writes the configuration, starts haproxy on this machine and waits (up to
 * 15 s) until GET /health through it answers 200. NULL with err (its log's
 * last line when it exited). */
stt_haproxy *stt_haproxy_start(const stt_haproxy_params *p, char *err, size_t errlen);

/* "http://127.0.0.1:PORT". */
const char *stt_haproxy_url(const stt_haproxy *h);

/* Stops haproxy (grace 5 s) and frees. NULL is a no-op. */
void stt_haproxy_stop(stt_haproxy *h);

/* The first line of `haproxy -v` into out; "" when it does not run. */
void stt_haproxy_version(char *out, size_t len);

#endif
