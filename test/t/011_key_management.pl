# Key-encryption key handling: file and command sources, refusal of unsafe or malformed keys,
# and a KEK rotation without downtime (previous_key_file + rewrap_data_keys).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FreightTest;

my $dir = PostgreSQL::Test::Utils::tempdir;
sub write_key
{
	my ($path, $content, $mode) = @_;
	open my $fh, '>', $path or die "$path: $!";
	print $fh $content;
	close $fh;
	chmod $mode // 0600, $path;
	return $path;
}
my $hex1 = join '', map { sprintf '%02x', int(rand(256)) } 1 .. 32;
my $hex2 = join '', map { sprintf '%02x', int(rand(256)) } 1 .. 32;
my $kek1 = write_key("$dir/kek1.key", "$hex1\n");
my $kek2 = write_key("$dir/kek2.key", "$hex2\n");

my $node = new_node('keys');
$node->append_conf('postgresql.conf', "freight.key_file = '$kek1'\n");
$node->start;
create_freight_db($node);

$node->safe_psql('freight', q{
	CREATE TABLE public.t (id int PRIMARY KEY, v bytea);
	INSERT INTO public.t SELECT i, freight.encrypt('value ' || i, 'freight.t.v:' || i) FROM generate_series(1, 50) i;
});
my $check = q{SELECT count(*) FROM public.t WHERE freight.decrypt(v, 'freight.t.v:' || id) = 'value ' || id};
is($node->safe_psql('freight', $check), '50', 'values decrypt under the configured KEK');

# A role without freight_decrypt is refused, and the refusal is one security event.
$node->safe_psql('freight', q{CREATE ROLE outsider LOGIN; GRANT SELECT ON public.t TO outsider;
	GRANT USAGE ON SCHEMA freight TO outsider;});
my ($rc, $o, $e) = $node->psql('freight', q{SELECT freight.decrypt(v, 'freight.t.v:' || id) FROM public.t},
	connstr => $node->connstr('freight') . ' user=outsider');
like($e, qr/permission denied to decrypt/, 'decrypt refused without freight_decrypt');
$node->poll_query_until('freight',
	q{SELECT count(*) > 0 FROM freight.security_events WHERE kind = 'decrypt_denied' AND actor = 'outsider'})
  or diag('no decrypt_denied event');
is($node->safe_psql('freight',
	q{SELECT string_agg(kind, ',') FROM freight.security_events WHERE actor = 'outsider'}),
	'decrypt_denied', 'the refusal is recorded once, as decrypt_denied');

# Reconfigure, reload, and return (stdout, stderr) of the check in a new session.
sub with_settings
{
	my (%settings) = @_;
	my $conf = join '', map { "freight.$_ = '$settings{$_}'\n" } sort keys %settings;
	$node->append_conf('postgresql.conf', $conf);
	$node->reload;
	my ($ret, $out, $err) = $node->psql('freight', $check);
	return ($out, $err);
}

my ($out, $err) = with_settings(key_file => "$dir/missing.key");
like($err, qr/could not read key file .*missing\.key/, 'missing key file: clear error');

chmod 0644, $kek1;
($out, $err) = with_settings(key_file => $kek1);
like($err, qr/has group or world access/, 'world-readable key file refused');
chmod 0600, $kek1;

my $inside = write_key($node->data_dir . '/kek.key', "$hex1\n");
($out, $err) = with_settings(key_file => $inside);
like($err, qr/is inside the data directory/, 'key file inside the data directory refused');
unlink $inside;

write_key("$dir/bad.key", "not a key\n");
($out, $err) = with_settings(key_file => "$dir/bad.key");
like($err, qr/key-encryption key from freight.key_file is malformed/, 'malformed key refused');

($out, $err) = with_settings(key_file => $kek2);
like($err, qr/wrapped by a key-encryption key that is not configured/, 'wrong KEK: clear error, no garbage');

($out, $err) = with_settings(key_file => '', key_command => "cat $kek1");
is($out, '50', 'key_command supplies the KEK');

($out, $err) = with_settings(key_command => 'exit 3');
like($err, qr/freight.key_command failed/, 'failing key_command: clear error');

# KEK rotation: new key file, old one as previous_key_file, re-wrap, then drop the old one.
($out, $err) = with_settings(key_command => '', key_file => $kek2, previous_key_file => $kek1);
is($out, '50', 'during rotation, keys wrapped by the previous KEK still work');
is($node->safe_psql('freight', 'SELECT freight.rewrap_data_keys()'), '1', 'one data key re-wrapped');
($out, $err) = with_settings(previous_key_file => '');
is($out, '50', 'after re-wrapping, the new KEK alone decrypts everything');
is($node->safe_psql('freight', q{SELECT freight.decrypt(freight.encrypt('new', 'freight.t.v:99'), 'freight.t.v:99')}),
	'new', 'new writes work after the rotation');
($out, $err) = with_settings(key_file => $kek1);
like($err, qr/not configured/, 'the retired KEK no longer opens the data keys');

# The KEK never appears in the database or its dump.
with_settings(key_file => $kek2);
my $dump = $node->safe_psql('freight', 'SELECT string_agg(encode(wrapped, \'hex\'), \'\') FROM freight.data_keys');
unlike($dump, qr/$hex2/, 'the KEK is not stored in freight.data_keys');

$node->stop;
done_testing();
