/*
 * pd_broker.c
 *    The embedded default broker: librdkafka's mock cluster (rdkafka_mock.h)
 *    on loopback, speaking the real Kafka protocol, for the demo and the
 *    tests. Prints "bootstrap.servers=127.0.0.1:PORT[,...]" as its first
 *    line on stdout and serves until SIGTERM or SIGINT.
 *
 * Owns the cluster's life and its listening ports; what the cluster can do
 * (groups, offsets, idempotent producers; about 5 MB kept per partition) is
 * librdkafka's. The Admin API's CreateTopics is not served by it, so the
 * topics are created here, up front.
 */
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "tool_util.h"

#define DEFAULT_TOPICS                                                        \
	"transactions-stream,predictions-stream,interventions-stream"
/* librdkafka 2.0.2 gives topics it creates on first use 4 partitions */
#define MOCK_AUTO_PARTITIONS 4

static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: pd_broker [OPTIONS]\n"
	    "\n"
	    "Runs an in-process Kafka cluster (librdkafka's mock cluster) "
	    "on 127.0.0.1.\n"
	    "Prints bootstrap.servers=127.0.0.1:PORT[,...] as its first line "
	    "on stdout,\n"
	    "then serves until SIGTERM or SIGINT (exit status 0).\n"
	    "\n"
	    "Options:\n"
	    "  --brokers N      brokers in the cluster (default 1)\n"
	    "  --port P         port of the first broker, the next ones on "
	    "P+1, ...\n"
	    "                   (default 0: ports chosen by the kernel)\n"
	    "  --partitions N   partitions of the --topics topics (default "
	    "6)\n"
	    "  --topics A,B,..  topics to create up front (default\n"
	    "                   " DEFAULT_TOPICS ";\n"
	    "                   \"\" for none)\n"
	    "  --debug CTX      librdkafka debug contexts, e.g. mock,protocol\n"
	    "  -h, --help       this help\n"
	    "\n"
	    "Limits of the mock cluster (librdkafka 2.0.2): each partition "
	    "keeps only\n"
	    "about 5 MB (older messages are dropped, the low watermark moves "
	    "up), so\n"
	    "give topics enough partitions and keep consumers caught up; "
	    "topics a\n"
	    "client creates on first use get %d partitions whatever "
	    "--partitions says;\n"
	    "CreateTopics (Admin API) is not supported: create topics with "
	    "--topics.\n"
	    "Data lives in memory and is gone when pd_broker stops.\n",
	    MOCK_AUTO_PARTITIONS);
}

/* ------------------------------------------------------------------------
 * Fixed ports. librdkafka 2.0.2's mock brokers always bind 127.0.0.1 to
 * port 0 (a port the kernel picks) and offer no setting for it. While the
 * cluster is being created, and only then, this definition of bind()
 * (which the dynamic linker prefers to libc's for librdkafka's call) turns
 * the next loopback port-0 binds into binds of the ports asked for; the
 * brokers then advertise those ports too. Every other bind goes to libc
 * unchanged.
 * ------------------------------------------------------------------------
 */
static int fixed_next_port; /* 0: not creating the cluster */
static int fixed_binds;     /* binds rewritten so far */

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);

int
bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	static bind_fn libc_bind;
	struct sockaddr_in sin;

	if (libc_bind == NULL)
		libc_bind = (bind_fn) dlsym(RTLD_NEXT, "bind");
	if (libc_bind == NULL)
	{
		errno = ENOSYS;
		return -1;
	}
	if (fixed_next_port == 0 || addr == NULL || len < sizeof(sin) ||
	    addr->sa_family != AF_INET)
		return libc_bind(fd, addr, len);
	memcpy(&sin, addr, sizeof(sin));
	if (sin.sin_port != 0 || sin.sin_addr.s_addr != htonl(INADDR_LOOPBACK))
		return libc_bind(fd, addr, len);
	sin.sin_port = htons((uint16_t) fixed_next_port);
	fixed_next_port++;
	fixed_binds++;
	return libc_bind(fd, (const struct sockaddr *) &sin, sizeof(sin));
}

/* ------------------------------------------------------------------------
 * No Nagle. The mock brokers leave Nagle's algorithm on for the connections
 * they accept, so a response written while the client has not yet
 * acknowledged the previous one waits for the client's delayed ACK: 40 ms
 * on Linux. A producer with several requests in flight (the relay: one per
 * partition) then waited 46 ms for every round of delivery reports, and the
 * consumer as long for a fetch. Kafka's own brokers set TCP_NODELAY; this
 * definition of accept() does the same for librdkafka's call.
 * ------------------------------------------------------------------------
 */
typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);

int
accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	static accept_fn libc_accept;
	int on = 1;
	int s;

	if (libc_accept == NULL)
		libc_accept = (accept_fn) dlsym(RTLD_NEXT, "accept");
	if (libc_accept == NULL)
	{
		errno = ENOSYS;
		return -1;
	}
	s = libc_accept(fd, addr, len);
	if (s >= 0)
		(void) setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	return s;
}

/*
 * Whether 127.0.0.1:port can be bound now. librdkafka 2.0.2 aborts when a
 * mock broker cannot bind its port, so pd_broker looks first and says why.
 */
static bool
port_free(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
	                          .sin_port = htons((uint16_t) port),
	                          .sin_addr = {.s_addr = htonl(INADDR_LOOPBACK)}};
	int on = 1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	if (fd < 0)
		return false;
	/* as librdkafka does, so a port in TIME_WAIT counts as free */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	ok = bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

/* ------------------------------------------------------------------------
 * main
 * ------------------------------------------------------------------------
 */
int
main(int argc, char **argv)
{
	long brokers = 1;
	long port = 0;
	long partitions = 6;
	const char *topics = DEFAULT_TOPICS;
	const char *debug = NULL;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mcluster;
	char err[512];
	sigset_t stop_signals;
	sigset_t blocked;
	int sig;

	tool_name = "pd_broker";
	for (int i = 1; i < argc; i++)
	{
		const char *arg = argv[i];

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
		{
			usage(stdout);
			return 0;
		}
		else if (tool_is_option(arg, "--brokers"))
		{
			if (!tool_parse_long(tool_option_value(argc, argv, &i), 1, 16,
			                     &brokers))
				tool_die(TOOL_EXIT_USAGE, "--brokers: a number from 1 to 16");
		}
		else if (tool_is_option(arg, "--port"))
		{
			if (!tool_parse_long(tool_option_value(argc, argv, &i), 0, 65535,
			                     &port))
				tool_die(TOOL_EXIT_USAGE, "--port: a port from 1 to 65535, "
				                          "or 0 for ports the kernel picks");
		}
		else if (tool_is_option(arg, "--partitions"))
		{
			if (!tool_parse_long(tool_option_value(argc, argv, &i), 1, 10000,
			                     &partitions))
				tool_die(TOOL_EXIT_USAGE,
				         "--partitions: a number from 1 to 10000");
		}
		else if (tool_is_option(arg, "--topics"))
			topics = tool_option_value(argc, argv, &i);
		else if (tool_is_option(arg, "--debug"))
			debug = tool_option_value(argc, argv, &i);
		else
			tool_die(TOOL_EXIT_USAGE, "unknown argument \"%s\" (see --help)",
			         arg);
	}
	if (port != 0 && port + brokers - 1 > 65535)
		tool_die(TOOL_EXIT_USAGE, "--port %ld leaves no room for %ld brokers",
		         port, brokers);

	for (long p = port; port != 0 && p < port + brokers; p++)
		if (!port_free((int) p))
			tool_die(TOOL_EXIT_FAILURE,
			         "cannot listen on 127.0.0.1:%ld: %s; choose another "
			         "--port, or --port 0 for ports the kernel picks",
			         p, strerror(errno));

	/*
	 * Block the stop signals before librdkafka starts its threads, so that
	 * they all stay blocked there and sigwait() below receives them. SIGPIPE
	 * too: a client hanging up must not kill the broker.
	 */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	blocked = stop_signals;
	sigaddset(&blocked, SIGPIPE);
	sigaddset(&blocked, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &blocked, NULL);

	/* the mock cluster lives in (and logs through) a plain client handle */
	conf = rd_kafka_conf_new();
	rd_kafka_conf_set_log_cb(conf, tool_kafka_log);
	if (debug != NULL)
		tool_kafka_set(conf, "debug", debug);
	else /* not the notice that this handle has no bootstrap.servers */
		tool_kafka_set(conf, "log_level", "4");
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (rk == NULL)
		tool_die(TOOL_EXIT_FAILURE, "cannot create the client handle: %s",
		         err);

	fixed_next_port = (int) port;
	mcluster = rd_kafka_mock_cluster_new(rk, (int) brokers);
	fixed_next_port = 0;
	if (mcluster == NULL)
	{
		if (port != 0)
			tool_die(TOOL_EXIT_FAILURE,
			         "cannot listen on 127.0.0.1:%ld..%ld (in use?): choose "
			         "another --port, or --port 0 for free ports",
			         port, port + brokers - 1);
		tool_die(TOOL_EXIT_FAILURE, "cannot create the mock cluster");
	}
	if (port != 0 && fixed_binds != brokers)
		tool_warn("could not pin the ports (librdkafka bound %d of %ld "
		          "brokers to them); use the ports printed below",
		          fixed_binds, brokers);

	/* the topics, before anyone can ask for them */
	if (*topics != '\0')
	{
		char *list = strdup(topics);
		char *save = NULL;
		int replication = brokers < 3 ? (int) brokers : 3;

		for (char *t = strtok_r(list, ",", &save); t != NULL;
		     t = strtok_r(NULL, ",", &save))
		{
			rd_kafka_resp_err_t e;

			if (*t == '\0')
				continue;
			e = rd_kafka_mock_topic_create(mcluster, t, (int) partitions,
			                               replication);
			if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
				tool_die(TOOL_EXIT_FAILURE, "cannot create topic %s: %s", t,
				         rd_kafka_err2str(e));
		}
		free(list);
	}

	/* the first line is the contract: scripts read it to find the broker */
	printf("bootstrap.servers=%s\n",
	       rd_kafka_mock_cluster_bootstraps(mcluster));
	fflush(stdout);
	fprintf(stderr,
	        "%s: %ld broker(s) on %s; topics %s with %ld partitions; "
	        "auto-created topics get %d; about 5 MB kept per partition; "
	        "stop with SIGTERM or Ctrl-C\n",
	        tool_name, brokers, rd_kafka_mock_cluster_bootstraps(mcluster),
	        *topics != '\0' ? topics : "(none)", partitions,
	        MOCK_AUTO_PARTITIONS);

	do
	{
		if (sigwait(&stop_signals, &sig) != 0)
			sig = SIGTERM;
	} while (sig != SIGTERM && sig != SIGINT);

	rd_kafka_mock_cluster_destroy(mcluster);
	rd_kafka_destroy(rk);
	fprintf(stderr, "%s: stopped (signal %d)\n", tool_name, sig);
	return 0;
}
