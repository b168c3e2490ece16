-- 014_cac_calibration.sql - the calcium mass score's calibration, per
-- scanner.
--
-- The mass score (McCollough et al., Radiology 2007;243:527) is
-- m = c x V x CT: c, mg of hydroxyapatite per cm³ and HU at 120 kV, is
-- the scanner's, measured on a phantom with hydroxyapatite inserts of
-- known density.  A site enters what it measured for each of its
-- scanners: the manufacturer (the start of the DICOM Manufacturer, case
-- ignored: "GE" for "GE MEDICAL SYSTEMS"), optionally the model (the
-- whole Manufacturer's Model Name) and the tube voltage.  The reader
-- takes the most specific row that fits a series (model and voltage,
-- then model, then voltage, then the manufacturer alone), else the
-- configured cac_calibration, and says in its method which it used.
CREATE TABLE cac_calibrations (
	id		bigserial PRIMARY KEY,
	manufacturer	text NOT NULL CHECK (length(btrim(manufacturer)) > 0
			    AND length(manufacturer) <= 64),
	model		text NOT NULL DEFAULT '' CHECK (length(model) <= 64),
	kvp		numeric(4, 0) CHECK (kvp IS NULL OR kvp BETWEEN 70 AND 150),
	factor		numeric(5, 3) NOT NULL CHECK (factor BETWEEN 0.3 AND 1.5),
	note		text NOT NULL DEFAULT '' CHECK (length(note) <= 200),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	updated_by	text NOT NULL DEFAULT ''
);

CREATE UNIQUE INDEX cac_calibrations_scanner ON cac_calibrations
    (lower(btrim(manufacturer)), lower(btrim(model)), coalesce(kvp, 0));

-- The inference daemon reads them; the operator writes them through
-- zhiying-admin (the console's role).  The web has no use for them.
GRANT SELECT ON cac_calibrations TO zhiying_inferd;
GRANT SELECT, INSERT, UPDATE, DELETE ON cac_calibrations TO zhiying_console;
GRANT USAGE ON SEQUENCE cac_calibrations_id_seq TO zhiying_console;
