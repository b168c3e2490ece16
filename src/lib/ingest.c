/*
 * ingest.c - check, store and index one DICOM file.
 */
#include "config.h"

#include <sys/stat.h>

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "db.h"
#include "ingest.h"
#include "log.h"
#include "workflow.h"

/* Storage SOP classes accepted: the images the readers and the viewer
 * know (PS3.4 B.5). */
const char *const ingest_sop_classes[] = {
	"1.2.840.10008.5.1.4.1.1.2",		/* CT Image */
	"1.2.840.10008.5.1.4.1.1.2.1",		/* Enhanced CT Image */
	"1.2.840.10008.5.1.4.1.1.1",		/* CR Image */
	"1.2.840.10008.5.1.4.1.1.1.1",		/* DX Image, for presentation */
	"1.2.840.10008.5.1.4.1.1.1.1.1",	/* DX Image, for processing */
	"1.2.840.10008.5.1.4.1.1.7",		/* Secondary Capture Image */
	NULL
};

void
ingest_limits(struct dcm_limits *lim, const struct conf *cf)
{
	memset(lim, 0, sizeof(*lim));
	lim->max_inflated = (size_t)cf->dicom_max_inflated;
	lim->inflate_ratio = (unsigned)cf->dicom_inflate_ratio;
}

int
ingest_sop_class_known(const char *uid)
{
	int	 i;

	for (i = 0; ingest_sop_classes[i] != NULL; i++)
		if (strcmp(ingest_sop_classes[i], uid) == 0)
			return 1;
	return 0;
}

/* Text of a double for a parameter, or NULL for SQL NULL. */
static const char *
dbl(char *buf, size_t size, double v)
{
	if (isnan(v))
		return NULL;
	(void)snprintf(buf, size, "%.17g", v);
	return buf;
}

static const char *
intv(char *buf, size_t size, int v, int present)
{
	if (!present)
		return NULL;
	(void)snprintf(buf, size, "%d", v);
	return buf;
}

/* A PostgreSQL array literal of n doubles, or NULL if any is missing. */
static const char *
dblarr(char *buf, size_t size, const double *v, int n)
{
	size_t	 off = 0;
	int	 i, k;

	for (i = 0; i < n; i++)
		if (isnan(v[i]))
			return NULL;
	buf[off++] = '{';
	for (i = 0; i < n; i++) {
		k = snprintf(buf + off, size - off, "%s%.17g", i ? "," : "",
		    v[i]);
		if (k < 0 || (size_t)k >= size - off)
			return NULL;
		off += (size_t)k;
	}
	if (off + 2 > size)
		return NULL;
	buf[off++] = '}';
	buf[off] = '\0';
	return buf;
}

static int
check_info(const struct dcm_info *i, const struct dcm_limits *lim,
    char *reason, size_t size)
{
	if (!store_uid_valid(i->sop_instance_uid) ||
	    !store_uid_valid(i->study_uid) || !store_uid_valid(i->series_uid)) {
		(void)snprintf(reason, size, "missing or malformed SOP Instance,"
		    " Study or Series Instance UID");
		return -1;
	}
	if (!ingest_sop_class_known(i->sop_class_uid)) {
		(void)snprintf(reason, size, "SOP class '%s' is not an image"
		    " type zhiying accepts", i->sop_class_uid);
		return -1;
	}
	if (!i->has_pixels) {
		(void)snprintf(reason, size, "the file has no pixel data");
		return -1;
	}
	if (i->rows <= 0 || i->cols <= 0) {
		(void)snprintf(reason, size, "invalid image size %dx%d",
		    i->rows, i->cols);
		return -1;
	}
	/* An image that cannot be shown must not reach the store, the
	 * viewer or the AI queue. */
	if (dcm_check_pixels(i, lim, reason, size) == -1)
		return -1;
	return 0;
}

/*
 * Offer the study to the upload's application, in the caller's
 * transaction, with its audit row: linked when its patient is the
 * application's, held (o->held) when not.  Returns 0 or -1.
 */
static int
ingest_link(PGconn *c, const struct ingest_source *src, long long study,
    struct ingest_outcome *o)
{
	struct wf_linker	 l;
	int			 res;

	if (src->application_id <= 0)
		return 0;
	memset(&l, 0, sizeof(l));
	l.user_id = src->user_id;
	l.institution_id = src->institution_id;
	l.login = src->login;
	l.ip = src->ip;
	l.channel = src->channel;
	res = wf_offer_study(c, &l, src->application_id, study, "upload");
	if (res == WF_OFFER_ERROR)
		return -1;
	o->held = res == WF_OFFER_HELD;
	return 0;
}

/* The storage key of the instance already indexed under this SOP
 * Instance UID, into buf; 1 if there is one, 0 if none, -1 on error. */
static int
ingest_known(PGconn *c, const char *inst, const char *sop,
    struct ingest_outcome *o, char *buf, size_t size)
{
	PGresult	*r;

	const char	*p[2] = { inst, sop };

	r = db_execp(__func__, c, "SELECT i.id, i.series_id,"
	    " se.study_id, i.storage_key"
	    " FROM instances i JOIN series se ON se.id = i.series_id"
	    " WHERE i.institution_id = $1::bigint AND i.sop_instance_uid = $2",
	    2, p);
	if (r == NULL)
		return -1;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return 0;
	}
	o->instance_id = db_ll(r, 0, 0);
	o->series_id = db_ll(r, 0, 1);
	o->study_id = db_ll(r, 0, 2);
	(void)snprintf(buf, size, "%s", db_val(r, 0, 3));
	PQclear(r);
	return 1;
}

/* A SOP Instance UID indexed under another key: refused, and the file
 * this call may have written under its own key removed. */
static enum ingest_result
ingest_conflict(struct store *st, const char *key, int written,
    struct ingest_outcome *o)
{
	(void)snprintf(o->reason, sizeof(o->reason), "SOP Instance UID %s"
	    " is already stored under another study or series",
	    o->info.sop_instance_uid);
	if (written && store_remove(st, key) == -1)
		log_error("%s: %s left in the store", __func__, key);
	o->instance_id = o->series_id = o->study_id = 0;
	return INGEST_REFUSED;
}

/* The detail of the audit row of a stored instance (JSON; free it), or
 * NULL. */
static char *
ingest_audit_detail(const struct ingest_source *src,
    const struct ingest_outcome *o, const char *key)
{
	json_t		*d;
	char		*detail;

	d = json_pack("{s:s, s:s, s:s, s:s, s:s}", "sop_instance_uid",
	    o->info.sop_instance_uid, "series_uid", o->info.series_uid,
	    "modality", o->info.modality, "calling_ae",
	    src->calling_ae ? src->calling_ae : "", "storage_key", key);
	detail = d ? json_dumps(d, JSON_COMPACT) : NULL;
	json_decref(d);
	return detail;
}

/* Put the file at path under key: moved when the source allows it. */
static int
ingest_put(struct store *st, const char *key, const char *path,
    const struct ingest_source *src)
{
	if (src->move)
		return store_move_file(st, key, path);
	return store_put_file(st, key, path);
}

enum ingest_result
ingest_file(PGconn *c, struct store *st, const struct dcm_limits *lim,
    const char *path, const struct ingest_source *src,
    struct ingest_outcome *o)
{
	const struct dcm_info	*i = &o->info;
	struct stat		 sb;
	PGresult		*r = NULL;
	char			 key[512], known[512], inst[32],
				 size[32], b1[64], b2[64], b3[64], b4[64],
				 b5[64], b6[64], b7[64], b8[64], b9[64],
				 a1[256], a2[256], a3[256];
	char			 err[256], uid[32], c1[64], c2[64], c3[64],
				 c4[64], c5[64], *detail = NULL;
	PGresult		*res[3];

	memset(o, 0, sizeof(*o));
	if (dcm_read_info(path, lim, &o->info, err, sizeof(err)) == -1) {
		(void)snprintf(o->reason, sizeof(o->reason), "%s", err);
		o->unreadable = 1;
		return INGEST_REFUSED;
	}
	if (check_info(i, lim, o->reason, sizeof(o->reason)) == -1)
		return INGEST_REFUSED;
	(void)snprintf(inst, sizeof(inst), "%lld", src->institution_id);
	if (store_key_instance(key, sizeof(key), src->institution_id,
	    i->study_uid, i->series_uid, i->sop_instance_uid) == -1) {
		(void)snprintf(o->reason, sizeof(o->reason), "bad UIDs");
		return INGEST_REFUSED;
	}
	if (stat(path, &sb) == -1) {
		(void)snprintf(o->reason, sizeof(o->reason), "cannot stat file");
		return INGEST_ERROR;
	}

	/* Known already?  Then only make sure its file is in the store, and
	 * linked to the upload's application (a retry after a fault). */
	switch (ingest_known(c, inst, i->sop_instance_uid, o, known,
	    sizeof(known))) {
	case -1:
		goto error;
	case 1:
		if (strcmp(known, key) != 0)
			return ingest_conflict(st, key, 0, o);
		if (store_exists(st, key) != 1 &&
		    ingest_put(st, key, path, src) == -1)
			goto error;
		if (src->application_id > 0) {
			if (db_begin(c) == -1)
				goto error;
			if (ingest_link(c, src, o->study_id, o) == -1 ||
			    db_commit(c) == -1)
				goto rollback;
		}
		return INGEST_DUPLICATE;
	default:
		break;
	}

	/* The file first: an index row never points at a missing file.
	 * Both are durable when this returns INGEST_STORED: the store
	 * flushed the file and its folder, and the commit below is
	 * synchronous; the receiver acknowledges only then. */
	if (ingest_put(st, key, path, src) == -1)
		goto error;

	/* BEGIN and two statements, prepared once per connection, in one
	 * round trip.  The first: upserts of patient, study and series
	 * that return the row's id either way; the no-op update also
	 * serialises concurrent senders of the same study.  The second:
	 * the instance, its series' count and the audit row
	 * (audit_write()'s columns, object_id the new row's id): nothing
	 * is counted or audited when the instance was there already. */
	(void)snprintf(size, sizeof(size), "%lld", (long long)sb.st_size);
	(void)snprintf(uid, sizeof(uid), "%lld", src->user_id);
	if ((detail = ingest_audit_detail(src, o, key)) == NULL) {
		(void)snprintf(o->reason, sizeof(o->reason), "out of memory");
		goto error;
	}
	{
		const char *sp[34] = {
			inst, i->patient_id, i->patient_name, i->patient_sex,
			i->patient_birth_date,
			i->study_uid, i->accession, i->study_date,
			i->study_time, i->study_description, i->patient_age,
			i->institution,
			i->series_uid,
			intv(b1, sizeof(b1), i->series_number, 1),
			i->modality, i->body_part, i->series_description,
			i->manufacturer, i->model, i->kernel, i->image_type,
			i->frame_of_reference_uid,
			dbl(b2, sizeof(b2), i->slice_thickness),
			dbl(b3, sizeof(b3), i->spacing_between_slices),
			dbl(b4, sizeof(b4), i->kvp),
			dbl(b5, sizeof(b5), i->gantry_tilt),
			intv(b6, sizeof(b6), i->rows, 1),
			intv(b7, sizeof(b7), i->cols, 1),
			i->pixel_spacing_source == DCM_SPACING_NONE ? NULL :
			    dblarr(a1, sizeof(a1), i->pixel_spacing, 2),
			i->has_iop ? dblarr(a2, sizeof(a2), i->iop, 6) : NULL,
			dbl(b8, sizeof(b8), i->window_center),
			dbl(b9, sizeof(b9), i->window_width),
			i->view_position, i->contrast_agent,
		};
		const char *ip[20] = {
			i->study_uid, inst, i->sop_instance_uid,
			i->sop_class_uid, i->transfer_syntax,
			intv(c1, sizeof(c1), i->instance_number, 1),
			i->has_ipp ? dblarr(a3, sizeof(a3), i->ipp, 3) : NULL,
			dbl(c2, sizeof(c2), i->slice_location),
			intv(c3, sizeof(c3), i->frames, 1),
			intv(c4, sizeof(c4), i->rows, 1),
			intv(c5, sizeof(c5), i->cols, 1),
			key, size, src->channel,
			src->calling_ae ? src->calling_ae : "",
			uid, "", audit_ip(src->ip), detail, i->series_uid,
		};
		const struct db_stmt stmt[3] = {
			{ 0, "BEGIN", 0, NULL },
			{ 1,
			    "WITH pa AS (INSERT INTO patients (institution_id,"
			    " patient_id, name, sex, birth_date)"
			    " VALUES ($1::bigint, $2, $3, $4, $5)"
			    " ON CONFLICT (institution_id, patient_id) DO UPDATE"
			    " SET name = CASE WHEN patients.name = ''"
			    "  THEN EXCLUDED.name ELSE patients.name END"
			    " RETURNING id),"
			    " st AS (INSERT INTO studies (institution_id,"
			    " patient_ref, study_uid, accession, study_date,"
			    " study_time, description, patient_age,"
			    " institution_name)"
			    " VALUES ($1::bigint, (SELECT id FROM pa), $6, $7, $8,"
			    " $9, $10, $11, $12)"
			    " ON CONFLICT (institution_id, study_uid) DO UPDATE"
			    " SET updated_at = now() RETURNING id)"
			    " INSERT INTO series (study_id,"
			    " series_uid, series_number, modality, body_part,"
			    " description, manufacturer, model, kernel,"
			    " image_type, frame_of_reference_uid,"
			    " slice_thickness, spacing_between_slices, kvp,"
			    " gantry_tilt, rows, cols, pixel_spacing, iop,"
			    " window_center, window_width, view_position,"
			    " contrast_agent)"
			    " VALUES ((SELECT id FROM st), $13, $14::int, $15,"
			    " $16, $17, $18, $19, $20, $21, $22, $23::float8,"
			    " $24::float8, $25::float8, $26::float8, $27::int,"
			    " $28::int, $29::float8[], $30::float8[],"
			    " $31::float8, $32::float8, $33, $34)"
			    " ON CONFLICT (study_id, series_uid) DO UPDATE SET"
			    " updated_at = now() RETURNING id, study_id",
			    34, sp },
			{ 1,
			    "WITH ins AS (INSERT INTO instances (series_id,"
			    " institution_id, sop_instance_uid, sop_class_uid,"
			    " transfer_syntax, instance_number, ipp,"
			    " slice_location, frames, rows, cols, storage_key,"
			    " size_bytes, source, calling_ae)"
			    " VALUES ((SELECT se.id FROM series se"
			    " JOIN studies st ON st.id = se.study_id"
			    " WHERE st.institution_id = $2::bigint"
			    " AND st.study_uid = $1 AND se.series_uid = $20),"
			    " $2::bigint, $3, $4, $5, $6::int, $7::float8[],"
			    " $8::float8, $9::int, $10::int, $11::int, $12,"
			    " $13::bigint, $14, $15)"
			    " ON CONFLICT (institution_id, sop_instance_uid)"
			    " DO NOTHING RETURNING id, series_id),"
			    " cnt AS (UPDATE series SET instance_count ="
			    " instance_count + 1"
			    " WHERE id IN (SELECT series_id FROM ins)),"
			    " aud AS (INSERT INTO audit_log (actor_id,"
			    " actor_login, institution_id, action, object_type,"
			    " object_id, ip, channel, detail)"
			    " SELECT NULLIF($16, '0')::bigint, $17,"
			    " NULLIF($2, '0')::bigint, 'dicom_stored',"
			    " 'instance', ins.id::text, $18::inet, $14,"
			    " $19::jsonb FROM ins)"
			    " SELECT id FROM ins", 20, ip },
		};

		if (db_pipeline(__func__, c, stmt, 3, res) == -1) {
			free(detail);
			goto rollback;
		}
	}
	free(detail);
	PQclear(res[0]);
	o->study_id = db_ll(res[1], 0, 1);
	o->series_id = db_ll(res[1], 0, 0);
	PQclear(res[1]);
	r = res[2];
	if (PQntuples(r) == 0) {
		/* Another sender indexed it a moment ago: the same instance,
		 * or the same UID under another study. */
		PQclear(r);
		r = NULL;
		db_rollback(c);
		switch (ingest_known(c, inst, i->sop_instance_uid, o, known,
		    sizeof(known))) {
		case 1:
			if (strcmp(known, key) != 0)
				return ingest_conflict(st, key, 1, o);
			if (src->application_id <= 0)
				return INGEST_DUPLICATE;
			if (db_begin(c) == -1)
				goto error;
			if (ingest_link(c, src, o->study_id, o) == -1 ||
			    db_commit(c) == -1)
				goto rollback;
			return INGEST_DUPLICATE;
		case 0:
			(void)snprintf(o->reason, sizeof(o->reason),
			    "instance vanished while indexing");
			(void)store_remove(st, key);
			/* FALLTHROUGH */
		default:
			goto error;
		}
	}
	o->instance_id = db_ll(r, 0, 0);
	PQclear(r);
	r = NULL;
	if (ingest_link(c, src, o->study_id, o) == -1 || db_commit(c) == -1)
		goto rollback;
	return INGEST_STORED;
rollback:
	PQclear(r);
	db_rollback(c);
error:
	if (o->reason[0] == '\0')
		(void)snprintf(o->reason, sizeof(o->reason),
		    "database or store error");
	log_error("%s: %s: %s", __func__, path, o->reason);
	return INGEST_ERROR;
}
