/*
 * webhook_policy_test.c — unit test of the dispatcher's pure policies: outcome classification,
 * retry schedule parsing, backoff with jitter (workers/webhook_retry.c) and URL / address checks
 * (extension/webhook_url.c).  Prints "N passed, M failed".
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "webhook_retry.h"
#include "webhook_url.h"

static int	passed;
static int	failed;

static void
check(int ok, const char *what)
{
	if (ok)
		passed++;
	else
	{
		failed++;
		printf("FAIL %s\n", what);
	}
}

static void
test_classify(void)
{
	check(webhook_classify(200) == WEBHOOK_DELIVERED, "200 delivered");
	check(webhook_classify(204) == WEBHOOK_DELIVERED, "204 delivered");
	check(webhook_classify(0) == WEBHOOK_RETRY, "no answer retried");
	check(webhook_classify(408) == WEBHOOK_RETRY, "408 retried");
	check(webhook_classify(429) == WEBHOOK_RETRY, "429 retried");
	check(webhook_classify(500) == WEBHOOK_RETRY, "500 retried");
	check(webhook_classify(503) == WEBHOOK_RETRY, "503 retried");
	check(webhook_classify(410) == WEBHOOK_GONE, "410 gone");
	check(webhook_classify(400) == WEBHOOK_REJECTED, "400 rejected");
	check(webhook_classify(404) == WEBHOOK_REJECTED, "404 rejected");
	check(webhook_classify(301) == WEBHOOK_REJECTED, "301 rejected (no redirects)");
}

static void
test_schedule(void)
{
	int64_t		d[WEBHOOK_SCHEDULE_MAX];
	char		err[200];
	int			n;

	n = webhook_schedule_parse("5s, 5min, 30min, 2h, 5h, 10h, 10h", d, err, sizeof(err));
	check(n == 7 && d[0] == 5000 && d[1] == 300000 && d[2] == 1800000 && d[3] == 7200000 &&
		  d[6] == 36000000, "default schedule parses");
	n = webhook_schedule_parse("100ms,2,1d", d, err, sizeof(err));
	check(n == 3 && d[0] == 100 && d[1] == 2000 && d[2] == 86400000, "ms, bare seconds, days");
	check(webhook_schedule_parse("  ", d, err, sizeof(err)) == 0, "empty schedule = no retries");
	check(webhook_schedule_parse("5x", d, err, sizeof(err)) == -1 && strstr(err, "unit"),
		  "unknown unit rejected");
	check(webhook_schedule_parse("5s;6s", d, err, sizeof(err)) == -1, "bad separator rejected");
	check(webhook_schedule_parse("-5s", d, err, sizeof(err)) == -1, "negative rejected");
	check(webhook_schedule_parse("5s,", d, err, sizeof(err)) == -1, "trailing comma rejected");
	check(webhook_schedule_parse("1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",
								 d, err, sizeof(err)) == -1, "too many entries rejected");
}

static void
test_delay(void)
{
	int64_t		d[3] = {1000, 60000, 3600000};

	check(webhook_retry_delay_ms(d, 3, 1, 0, 0.5) == 1000, "first retry, no jitter at 0.5");
	check(webhook_retry_delay_ms(d, 3, 2, 0, 0.0) == 54000, "jitter lower bound -10%");
	check(webhook_retry_delay_ms(d, 3, 2, 0, 0.999999) >= 65999, "jitter upper bound +10%");
	check(webhook_retry_delay_ms(d, 3, 3, 0, 0.5) == 3600000, "third retry");
	check(webhook_retry_delay_ms(d, 3, 4, 0, 0.5) == -1, "schedule used up = dead");
	check(webhook_retry_delay_ms(d, 3, 1, 7000, 0.5) == 7000, "Retry-After honoured");
	check(webhook_retry_delay_ms(d, 3, 1, 7LL * 86400000, 0.5) == WEBHOOK_RETRY_AFTER_MAX_MS,
		  "Retry-After capped at a day");
	check(webhook_retry_delay_ms(d, 3, 4, 7000, 0.5) == -1, "Retry-After does not extend the schedule");
	check(webhook_retry_delay_ms(d, 0, 1, 0, 0.5) == -1, "empty schedule = dead after one failure");
}

static const char *
class_of(const char *text)
{
	struct sockaddr_in6 a6 = {0};
	struct sockaddr_in a4 = {0};

	if (inet_pton(AF_INET, text, &a4.sin_addr) == 1)
	{
		a4.sin_family = AF_INET;
		return webhook_address_class((struct sockaddr *) &a4);
	}
	inet_pton(AF_INET6, text, &a6.sin6_addr);
	a6.sin6_family = AF_INET6;
	return webhook_address_class((struct sockaddr *) &a6);
}

static int
is(const char *got, const char *want)
{
	return want == NULL ? got == NULL : got != NULL && strcmp(got, want) == 0;
}

static void
test_addresses(void)
{
	check(is(class_of("127.0.0.1"), "loopback"), "127.0.0.1 loopback");
	check(is(class_of("127.255.1.2"), "loopback"), "127/8 loopback");
	check(is(class_of("10.1.2.3"), "private"), "10/8 private");
	check(is(class_of("172.16.0.1"), "private"), "172.16/12 private");
	check(is(class_of("172.31.255.255"), "private"), "172.31 private");
	check(is(class_of("172.32.0.1"), NULL), "172.32 public");
	check(is(class_of("192.168.1.1"), "private"), "192.168/16 private");
	check(is(class_of("169.254.169.254"), "link-local"), "metadata address link-local");
	check(is(class_of("100.64.0.1"), "shared address space"), "CGNAT");
	check(is(class_of("0.0.0.0"), "unspecified"), "0.0.0.0");
	check(is(class_of("224.0.0.1"), "multicast"), "multicast v4");
	check(is(class_of("255.255.255.255"), "reserved"), "broadcast");
	check(is(class_of("93.184.216.34"), NULL), "public v4");
	check(is(class_of("8.8.8.8"), NULL), "8.8.8.8 public");
	check(is(class_of("::1"), "loopback"), "::1 loopback");
	check(is(class_of("::"), "unspecified"), ":: unspecified");
	check(is(class_of("fe80::1"), "link-local"), "fe80 link-local");
	check(is(class_of("fd00::1"), "private"), "ULA private");
	check(is(class_of("ff02::1"), "multicast"), "multicast v6");
	check(is(class_of("::ffff:127.0.0.1"), "loopback"), "v4-mapped loopback");
	check(is(class_of("::ffff:10.0.0.1"), "private"), "v4-mapped private");
	check(is(class_of("64:ff9b::a9fe:a9fe"), "link-local"), "NAT64 of link-local");
	check(is(class_of("2606:2800:220:1::1"), NULL), "public v6");
	check(is(class_of("2001:db8::1"), "reserved"), "documentation v6");
}

static void
test_urls(void)
{
	char		host[256];
	char		buf[300];

	check(webhook_url_syntax_error("https://hooks.example.com/freight?x=1", host, sizeof(host)) == NULL &&
		  strcmp(host, "hooks.example.com") == 0, "https URL accepted");
	check(webhook_url_syntax_error("http://[::1]:8080/h", host, sizeof(host)) == NULL &&
		  strcmp(host, "::1") == 0, "IPv6 literal host without brackets");
	check(webhook_url_syntax_error("ftp://example.com/", host, sizeof(host)) != NULL, "ftp refused");
	check(webhook_url_syntax_error("file:///etc/passwd", host, sizeof(host)) != NULL, "file refused");
	check(webhook_url_syntax_error("gopher://example.com/", host, sizeof(host)) != NULL, "gopher refused");
	check(webhook_url_syntax_error("not a url", host, sizeof(host)) != NULL, "garbage refused");
	check(webhook_url_syntax_error("example.com/hook", host, sizeof(host)) != NULL, "no scheme refused");
	check(webhook_url_syntax_error("https://user:pw@example.com/", host, sizeof(host)) != NULL,
		  "credentials refused");
	check(webhook_url_syntax_error("https://example.com/#frag", host, sizeof(host)) != NULL,
		  "fragment refused");
	check(webhook_url_syntax_error("https://exa mple.com/", host, sizeof(host)) != NULL, "space refused");
	check(webhook_host_error("127.0.0.1", false, buf, sizeof(buf)) != NULL &&
		  strstr(buf, "loopback"), "loopback literal refused");
	check(webhook_host_error("127.0.0.1", true, buf, sizeof(buf)) == NULL, "loopback allowed when asked");
	check(webhook_host_error("localhost", false, buf, sizeof(buf)) != NULL, "localhost refused");
	check(webhook_host_error("169.254.169.254", false, buf, sizeof(buf)) != NULL, "metadata refused");
	check(webhook_host_error("93.184.216.34", false, buf, sizeof(buf)) == NULL, "public literal accepted");
	check(webhook_host_error("no-such-host.invalid", true, buf, sizeof(buf)) != NULL &&
		  strstr(buf, "resolved"), "unresolvable host refused");
}

int
main(void)
{
	test_classify();
	test_schedule();
	test_delay();
	test_addresses();
	test_urls();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
