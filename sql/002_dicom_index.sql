-- 002_dicom_index: the study index (patient, study, series, instance) and
-- the registry of DICOM peers that may send to zhiying-scp.
--
-- Everything is scoped by the institution that sent it: the same UID sent
-- by two hospitals makes two rows, so one hospital's images can never be
-- reached through another's.

-- Calling AE titles allowed to send, each belonging to an institution
-- (the PACS front-end machine or the modality's image collector).
CREATE TABLE dicom_peers (
	id		bigserial PRIMARY KEY,
	ae_title	text NOT NULL UNIQUE
			    CHECK (ae_title ~ '^[ -[\]-~]{1,16}$' AND ae_title = btrim(ae_title)),
	institution_id	bigint NOT NULL REFERENCES institutions,
	kind		text NOT NULL DEFAULT 'pacs'
			    CHECK (kind IN ('pacs', 'collector')),
	description	text NOT NULL DEFAULT '',
	active		boolean NOT NULL DEFAULT true,
	created_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE patients (
	id		bigserial PRIMARY KEY,
	institution_id	bigint NOT NULL REFERENCES institutions,
	patient_id	text NOT NULL,
	name		text NOT NULL DEFAULT '',
	sex		text NOT NULL DEFAULT '',
	birth_date	text NOT NULL DEFAULT '',
	created_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (institution_id, patient_id)
);

CREATE TABLE studies (
	id		bigserial PRIMARY KEY,
	institution_id	bigint NOT NULL REFERENCES institutions,
	patient_ref	bigint NOT NULL REFERENCES patients,
	study_uid	text NOT NULL,
	accession	text NOT NULL DEFAULT '',
	study_date	text NOT NULL DEFAULT '',
	study_time	text NOT NULL DEFAULT '',
	description	text NOT NULL DEFAULT '',
	patient_age	text NOT NULL DEFAULT '',
	institution_name text NOT NULL DEFAULT '',
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (institution_id, study_uid)
);
CREATE INDEX studies_accession ON studies (institution_id, accession);
CREATE INDEX studies_patient_date ON studies (patient_ref, study_date);

CREATE TABLE series (
	id		bigserial PRIMARY KEY,
	study_id	bigint NOT NULL REFERENCES studies ON DELETE CASCADE,
	series_uid	text NOT NULL,
	series_number	integer,
	modality	text NOT NULL DEFAULT '',
	body_part	text NOT NULL DEFAULT '',
	description	text NOT NULL DEFAULT '',
	manufacturer	text NOT NULL DEFAULT '',
	model		text NOT NULL DEFAULT '',
	kernel		text NOT NULL DEFAULT '',
	image_type	text NOT NULL DEFAULT '',
	frame_of_reference_uid text NOT NULL DEFAULT '',
	slice_thickness	double precision,
	spacing_between_slices double precision,
	kvp		double precision,
	gantry_tilt	double precision,
	rows		integer,
	cols		integer,
	pixel_spacing	double precision[],
	iop		double precision[],
	window_center	double precision,
	window_width	double precision,
	instance_count	integer NOT NULL DEFAULT 0,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (study_id, series_uid)
);

CREATE TABLE instances (
	id		bigserial PRIMARY KEY,
	series_id	bigint NOT NULL REFERENCES series ON DELETE CASCADE,
	institution_id	bigint NOT NULL REFERENCES institutions,
	sop_instance_uid text NOT NULL,
	sop_class_uid	text NOT NULL,
	transfer_syntax	text NOT NULL DEFAULT '',
	instance_number	integer,
	ipp		double precision[],
	slice_location	double precision,
	frames		integer NOT NULL DEFAULT 1,
	rows		integer,
	cols		integer,
	storage_key	text NOT NULL,
	size_bytes	bigint NOT NULL,
	source		text NOT NULL CHECK (source IN ('scp', 'upload')),
	calling_ae	text NOT NULL DEFAULT '',
	received_at	timestamptz NOT NULL DEFAULT now(),
	-- The same SOP Instance UID from the same institution is stored once.
	UNIQUE (institution_id, sop_instance_uid)
);
CREATE INDEX instances_series ON instances (series_id, instance_number);

GRANT SELECT, INSERT, UPDATE, DELETE
    ON dicom_peers, patients, studies, series, instances TO zhiying_app;
