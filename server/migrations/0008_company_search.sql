-- Company search at 100,000 companies. One lower-cased search text (Company ID and name)
-- matched with LIKE, so no row is case-folded per search, with a trigram index for patterns
-- of three characters or more; and a covering sort index, so a page of the whole book,
-- however deep, is read from the index alone.
ALTER TABLE companies ADD COLUMN search_text TEXT GENERATED ALWAYS AS (lower(code || ' ' || name)) STORED;
ALTER TABLE companies ADD COLUMN sort_name TEXT GENERATED ALWAYS AS (lower(name)) STORED;
DROP INDEX companies_code_trgm;
DROP INDEX companies_name_trgm;
DROP INDEX companies_name;
CREATE INDEX companies_search ON companies USING gin (search_text gin_trgm_ops);
CREATE INDEX companies_sort ON companies (sort_name, code) INCLUDE (id);
