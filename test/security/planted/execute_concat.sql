-- planted: dynamic SQL in an install script
CREATE FUNCTION purge(t text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE 'DELETE FROM ' || t;
END $$;
