-- api_grammar_schema.sql — the small schema test/e2e/api_grammar.sh serves (FREIGHT_DB_SCHEMAS=gram):
-- tables with defaults and single/composite primary keys (PUT, missing=default, CSV and form
-- bodies), an analysed table of 5,000 rows (count=planned/estimated), films-roles-actors (a
-- junction table for many-to-many embedding) and objects only some roles may use (OpenAPI
-- filtered by privilege).
\ir api_roles.sql
CREATE SCHEMA gram;

CREATE TABLE gram.items (
	id int PRIMARY KEY,
	name text NOT NULL,
	qty int NOT NULL DEFAULT 7,
	note text DEFAULT 'none',
	tags text[]
);
CREATE TABLE gram.pairs (
	a int,
	b int,
	v text NOT NULL,
	PRIMARY KEY (a, b)
);
CREATE TABLE gram.nokey (x int);
CREATE TABLE gram.labels (name text PRIMARY KEY);
CREATE TABLE gram.big (id int PRIMARY KEY, grp int NOT NULL);
INSERT INTO gram.big SELECT g, g % 10 FROM generate_series(1, 5000) g;
ANALYZE gram.big;

CREATE TABLE gram.films (id int PRIMARY KEY, title text NOT NULL);
CREATE TABLE gram.actors (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE gram.roles (
	film_id int REFERENCES gram.films,
	actor_id int REFERENCES gram.actors,
	character text NOT NULL,
	PRIMARY KEY (film_id, actor_id)
);
INSERT INTO gram.films VALUES (1, 'Alien'), (2, 'Heat'), (3, 'Solaris');
INSERT INTO gram.actors VALUES (10, 'Weaver'), (11, 'Pacino'), (12, 'De Niro'), (13, 'Holm');
INSERT INTO gram.roles VALUES (1, 10, 'Ripley'), (1, 13, 'Ash'), (2, 11, 'Hanna'), (2, 12, 'McCauley');

-- only web_user may see these
CREATE TABLE gram.secrets (id int PRIMARY KEY, s text);
CREATE FUNCTION gram.admin_only() RETURNS int LANGUAGE sql AS 'SELECT 42';
CREATE FUNCTION gram.anyone() RETURNS int LANGUAGE sql AS 'SELECT 1';
REVOKE EXECUTE ON FUNCTION gram.admin_only() FROM PUBLIC;

-- web_anon may read two of its three columns
CREATE TABLE gram.people (id int PRIMARY KEY, name text, salary int);
INSERT INTO gram.people VALUES (1, 'Ann', 100);

GRANT USAGE ON SCHEMA gram TO web_anon, web_user;
GRANT SELECT (id, name) ON gram.people TO web_anon;
GRANT SELECT ON gram.items, gram.pairs, gram.big, gram.films, gram.actors, gram.roles, gram.nokey TO web_anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA gram TO web_user;
GRANT EXECUTE ON FUNCTION gram.admin_only() TO web_user;
