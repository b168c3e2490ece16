-- 016_series_lungs: whether a series holds the whole lungs, as the shared
-- chest anatomy of zhiying-inferd measured it (the apices and the bases in
-- the stack, the lungs inside the reconstruction circle).  NULL until a
-- lung reader's anatomy has looked; the matcher reads it when the series
-- is matched again (seriesmatch.c), so that a partial-lung series is
-- refused by name instead of with the note "尚未核实是否包含完整肺部".

ALTER TABLE series ADD COLUMN lungs_complete boolean;

GRANT SELECT (id, lungs_complete), UPDATE (lungs_complete) ON series
    TO zhiying_inferd;
