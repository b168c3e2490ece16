-- 023_series_vertebrae: how many of T12, L1 and L2 a series holds whole,
-- as the vertebrae of zhiying-inferd's shared anatomy counted them (the
-- bodies split at the discs and numbered from the last rib).  NULL until
-- a bone density job has looked, or when the vertebrae could not be
-- numbered; the matcher reads it when the series is matched again
-- (seriesmatch.c), so that a series with fewer than two of them is
-- refused by name instead of with the note "尚未核实 T12、L1、L2 椎体覆盖".

ALTER TABLE series ADD COLUMN vertebrae_t12_l2 smallint
    CHECK (vertebrae_t12_l2 BETWEEN 0 AND 3);

GRANT SELECT (vertebrae_t12_l2), UPDATE (vertebrae_t12_l2) ON series
    TO zhiying_inferd;
