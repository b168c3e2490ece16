-- 009_name_grams: fuzzy search of one or two characters of a name.
--
-- A Chinese name is two to four characters, and a doctor looks a patient
-- up by two of them (a given name) as often as by the whole name.  The
-- trigram index of 004 cannot serve a fragment shorter than three
-- characters: such a search read every application.  name_grams() gives
-- the lower-cased one- and two-character pieces of a name; a GIN index of
-- them finds every name holding a fragment of one or two characters, and
-- ILIKE then checks the rows it finds.

CREATE FUNCTION name_grams(s text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT coalesce(array_agg(DISTINCT g), '{}'::text[])
	FROM (SELECT substr(lower(s), i, k.n) AS g
	      FROM generate_series(1, length(s)) AS i,
	           (VALUES (1), (2)) AS k(n)
	      WHERE i + k.n - 1 <= length(s)) AS t
$$;

CREATE INDEX applications_patient_grams ON applications
    USING gin (name_grams(patient_name));
