# 052_webhook_tls.pl — webhook delivery over https, with and without a client certificate (mTLS).
#
# The test makes its own certificates with the openssl CLI: a CA that the server trusts
# (freight.webhook_ca_file), a server certificate for 127.0.0.1 signed by it, a client certificate
# signed by it, a client certificate from another CA, and a self-signed server certificate.  Two
# Node https receivers on 127.0.0.1 require a client certificate from the CA; one presents the
# CA-signed server certificate, the other the self-signed one.  Checks: the endpoint registered
# with the right client certificate and key is delivered and the receiver saw that certificate;
# no client certificate, or one from another CA, fails with a recorded TLS error and the receiver
# sees nothing; a server certificate the CA did not sign is refused with a clear error; a bad
# freight.webhook_ca_file is refused when set.
use strict;
use warnings;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FreightTest;

plan skip_all => 'openssl or node missing'
  unless system('openssl version > /dev/null 2>&1') == 0 && system('node --version > /dev/null 2>&1') == 0;

my $dir = "$PostgreSQL::Test::Utils::tmp_check/tls";
mkdir $dir;

sub openssl
{
	my @args = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'openssl', @args ], '>', \$out, '2>', \$err)
	  or die "openssl @args failed: $err";
}

# A CA (key + self-signed certificate).
sub make_ca
{
	my ($name) = @_;
	openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
		'-keyout', "$dir/$name.key", '-out', "$dir/$name.pem", '-days', '2', '-subj', "/CN=$name");
}

# A certificate signed by a CA; $ext is its extensions (an openssl config section body).
sub make_cert
{
	my ($name, $ca, $ext) = @_;
	open my $fh, '>', "$dir/$name.ext" or die $!;
	print $fh "$ext\n";
	close $fh;
	openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
		'-keyout', "$dir/$name.key", '-out', "$dir/$name.csr", '-subj', "/CN=$name");
	openssl('x509', '-req', '-in', "$dir/$name.csr", '-CA', "$dir/$ca.pem", '-CAkey', "$dir/$ca.key",
		'-CAcreateserial', '-out', "$dir/$name.pem", '-days', '2', '-extfile', "$dir/$name.ext");
}

make_ca('freight-test-ca');
make_ca('other-ca');
make_cert('server', 'freight-test-ca', "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth");
make_cert('partner-client', 'freight-test-ca', 'extendedKeyUsage=clientAuth');
make_cert('rogue-client', 'other-ca', 'extendedKeyUsage=clientAuth');
openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
	'-keyout', "$dir/selfsigned.key", '-out', "$dir/selfsigned.pem", '-days', '2',
	'-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1');
# The server process reads the CA file.
system('chmod', '-R', 'a+rX', $dir);

sub slurp { my ($f) = @_; return PostgreSQL::Test::Utils::slurp_file($f); }

# An https receiver that requires a client certificate from freight-test-ca and logs each
# request (path, webhook-id, the client certificate's CN) as a JSON line.
my $receiver_js = <<'JS';
const https = require('https');
const fs = require('fs');
const [port, cert, key, ca, log] = process.argv.slice(2);
const server = https.createServer({
	cert: fs.readFileSync(cert), key: fs.readFileSync(key), ca: fs.readFileSync(ca),
	requestCert: true, rejectUnauthorized: true,
}, (req, res) => {
	req.resume();
	req.on('end', () => {
		const peer = req.socket.getPeerCertificate();
		fs.appendFileSync(log, JSON.stringify({ path: req.url, id: req.headers['webhook-id'],
			cn: peer && peer.subject ? peer.subject.CN : null }) + '\n');
		res.writeHead(204);
		res.end();
	});
});
server.listen(Number(port), '127.0.0.1', () => console.log('listening ' + port));
JS
open my $js, '>', "$dir/receiver.js" or die $!;
print $js $receiver_js;
close $js;

my @receivers;
sub start_receiver
{
	my ($name, $cert) = @_;
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'node', "$dir/receiver.js", $port, "$dir/$cert.pem", "$dir/$cert.key",
			"$dir/freight-test-ca.pem", "$dir/$name.jsonl" ],
		'>', \$out, '2>', \$err);
	my $deadline = time + 20;
	$h->pump until $out =~ /listening/ || time > $deadline;
	like($out, qr/listening $port/, "$name receiver is listening (https)");
	push @receivers, $h;
	return $port;
}

sub received
{
	my ($name) = @_;
	my $f = "$dir/$name.jsonl";
	return () unless -f $f;
	return map { decode_json($_) } grep { /\S/ } split /\n/, slurp($f);
}

my $good_port = start_receiver('good', 'server');
my $bad_port = start_receiver('bad', 'selfsigned');

my $node = new_node(
	'webhook_tls', extra_conf => qq{
freight.webhook_allow_private = on
freight.webhook_ca_file = '$dir/freight-test-ca.pem'
freight.webhook_retry_schedule = '200ms'
freight.webhook_timeout = 3s
freight.webhook_connect_timeout = 2s
});
$node->start;
create_freight_db($node);

sub sql { return $node->safe_psql('freight', shift); }

sub quote { my ($s) = @_; $s =~ s/'/''/g; return "'$s'"; }

my %pem = map { $_ => quote(slurp("$dir/$_.pem")) } qw(partner-client rogue-client);
my %key = map { $_ => quote(slurp("$dir/$_.key")) } qw(partner-client rogue-client);

my %ep;
$ep{mtls} = sql("SELECT id FROM freight.register_webhook('https://127.0.0.1:$good_port/mtls', '{webhook.test}', NULL, $pem{'partner-client'}, $key{'partner-client'})");
$ep{nocert} = sql("SELECT id FROM freight.register_webhook('https://127.0.0.1:$good_port/nocert', '{webhook.test}')");
$ep{rogue} = sql("SELECT id FROM freight.register_webhook('https://127.0.0.1:$good_port/rogue', '{webhook.test}', NULL, $pem{'rogue-client'}, $key{'rogue-client'})");
$ep{badserver} = sql("SELECT id FROM freight.register_webhook('https://127.0.0.1:$bad_port/badserver', '{webhook.test}', NULL, $pem{'partner-client'}, $key{'partner-client'})");

unlike(sql("SELECT client_key::text FROM freight.webhook_endpoints WHERE id = $ep{mtls}"),
	qr/PRIVATE KEY/, 'the client key is stored encrypted');

sql("SELECT freight.send_webhook($ep{$_}, 'webhook.test', '{\"case\": \"$_\"}')") for sort keys %ep;

ok($node->poll_query_until('freight', "SELECT status = 'delivered' FROM freight.webhook_deliveries WHERE endpoint_id = $ep{mtls}"),
	'https with the right client certificate is delivered');
my @good = received('good');
is(scalar(grep { $_->{path} eq '/mtls' } @good), 1, 'the receiver got the mTLS delivery once');
is((grep { $_->{path} eq '/mtls' } @good)[0]{cn}, 'partner-client',
	'the receiver saw the endpoint\'s client certificate');

for my $case (qw(nocert rogue badserver))
{
	ok($node->poll_query_until('freight', "SELECT status = 'dead' FROM freight.webhook_deliveries WHERE endpoint_id = $ep{$case}"),
		"$case: dead-lettered after the retry schedule");
	is(sql("SELECT attempts || ' ' || coalesce(last_status_code::text, 'none') FROM freight.webhook_deliveries WHERE endpoint_id = $ep{$case}"),
		'2 none', "$case: two attempts, no HTTP answer");
}
for my $case (qw(nocert rogue))
{
	like(sql("SELECT last_error FROM freight.webhook_deliveries WHERE endpoint_id = $ep{$case}"),
		qr/SSL|TLS|certificate|alert|handshake|reset|recv|empty reply/i, "$case: the recorded error is a TLS failure (or the server hung up)");
}
like(sql("SELECT last_error FROM freight.webhook_deliveries WHERE endpoint_id = $ep{badserver}"),
	qr/SSL certificate problem: self[- ]signed certificate/i,
	'a server certificate the CA did not sign is refused with a clear error');
@good = received('good');
is(scalar(grep { $_->{path} ne '/mtls' } @good), 0,
	'the mTLS receiver served nothing without the right client certificate');
my @bad = received('bad');
is(scalar(@bad), 0, 'the receiver with the self-signed certificate got no request');

# Without freight.webhook_ca_file the test CA is not trusted: even the mTLS endpoint fails.
$node->append_conf('postgresql.conf', "freight.webhook_ca_file = ''\n");
$node->reload;
$node->poll_query_until('freight', "SELECT current_setting('freight.webhook_ca_file') = ''");
sql("SELECT freight.send_webhook($ep{mtls}, 'webhook.test', '{\"case\": \"no ca\"}')");
ok($node->poll_query_until('freight', "SELECT count(*) = 1 FROM freight.webhook_deliveries WHERE endpoint_id = $ep{mtls} AND status = 'dead'"),
	'without freight.webhook_ca_file the private CA is not trusted');
like(sql("SELECT last_error FROM freight.webhook_deliveries WHERE endpoint_id = $ep{mtls} AND status = 'dead'"),
	qr/SSL certificate problem/i, 'with a clear error');

# A CA file that cannot be read is refused when set, and the old value stays.
my ($ret, $stdout, $stderr) = $node->psql('freight', "ALTER SYSTEM SET freight.webhook_ca_file = '$dir/missing.pem'");
isnt($ret, 0, 'a missing CA file is refused');
like($stderr, qr/invalid value for parameter "freight.webhook_ca_file".*cannot be read/s, 'with a clear error');
($ret, $stdout, $stderr) = $node->psql('freight', "ALTER SYSTEM SET freight.webhook_ca_file = 'relative.pem'");
like($stderr, qr/not an absolute path/, 'a relative path is refused');

is(sql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'freight webhook dispatcher'"), 1,
	'the dispatcher is still running');

$_->kill_kill for @receivers;
$node->stop;
done_testing();
