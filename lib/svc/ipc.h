/* ipc: whole messages, with at most one descriptor, over SOCK_SEQPACKET
 * sockets: the channel between the pool, the zygote and the workers.
 *
 * A message arrives whole or not at all; one that does not fit the receiver's
 * buffer is an error, never a silent truncation. Internal to lib/svc.
 * Thread-safe (each call is one system call on the caller's socket).
 */
#ifndef STT_IPC_H
#define STT_IPC_H

#include <stddef.h>
#include <sys/types.h>

/* Largest message any receiver accepts. A sender may be limited to less: a
 * SOCK_SEQPACKET message must fit the socket's send buffer, which the kernel
 * caps at net.core.wmem_max (212992 bytes by default, doubled: about 416 KiB);
 * see stt_ipc_max_send(). */
#define STT_IPC_MSG_MAX (1 << 20)

/* A connected pair with both buffers sized for STT_IPC_MSG_MAX, close-on-exec.
 * Returns 0 or STT_EIO. */
int stt_ipc_pair(int sv[2]);

/* The largest message sock can send whole: the smaller of STT_IPC_MSG_MAX and
 * what its send buffer really holds (SO_SNDBUF less the kernel's per-message
 * overhead). Larger payloads must travel another way (a memfd). */
size_t stt_ipc_max_send(int sock);

/* Sends buf and, when fd >= 0, that descriptor in a single message. Returns 0
 * or STT_EIO (the peer is gone, or the message is too large for the socket). */
int stt_ipc_send(int sock, const void *buf, size_t len, int fd);

/* Receives one message into buf (cap bytes); *fd (when fd is not NULL) gets a
 * passed descriptor or -1. Returns the message's length, 0 at end of stream,
 * or STT_EIO (also for a message or descriptor that did not fit). */
ssize_t stt_ipc_recv(int sock, void *buf, size_t cap, int *fd);

#endif
