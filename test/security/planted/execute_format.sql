-- planted: format() building a statement
CREATE FUNCTION purge(t text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('x', format('DELETE FROM %I', t), false);
END $$;
