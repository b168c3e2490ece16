/*
 * result.c - the readers' registry, results and how they are stored.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "buf.h"
#include "preview.h"
#include "db.h"
#include "log.h"
#include "masks.h"
#include "reader.h"
#include "anatomy.h"
#include "bmd.h"
#include "cac.h"
#include "nodule.h"
#include "pneumonia.h"
#include "limb.h"
#include "ribfrac.h"
#include "tb.h"

/*
 * The readers of this build.  The seven readers of the manual come in
 * their own modules (src/infer/apps/); until one is added here its jobs
 * end as dead with "reader not available in this build".
 */
const struct reader_impl *const reader_impls[READER__MAX] = {
	[READER_CT_LUNG_NODULE] = &nodule_reader,
	[READER_CT_PNEUMONIA] = &pneumonia_reader,
	[READER_CT_RIB_FRACTURE] = &ribfrac_reader,
	[READER_DR_TUBERCULOSIS] = &tb_reader,
	[READER_DR_LIMB_FRACTURE] = &limb_reader,
	[READER_CT_BONE_DENSITY] = &bmd_reader,
	[READER_CT_CORONARY_CALCIUM] = &cac_reader,
};

void
ai_result_init(struct ai_result *r)
{
	memset(r, 0, sizeof(*r));
}

void
ai_result_free(struct ai_result *r)
{
	size_t	 i;

	free(r->lesions);
	free(r->summary);
	free(r->keys);
	free(r->findings);
	free(r->conclusion);
	free(r->method);
	free(r->overlays);
	for (i = 0; i < r->nhists; i++)
		free(r->hists[i].counts);
	free(r->hists);
	for (i = 0; i < r->nslices; i++)
		free(r->slice_uids[i]);
	free(r->slice_uids);
	for (i = 0; i < r->npictures; i++)
		free(r->pictures[i].png);
	free(r->pictures);
	free(r->extra);
	free(r->masks);
	free(r->masks_legend);
	memset(r, 0, sizeof(*r));
}

/* Grow an array of n elements of size sz by one; the new one zeroed. */
static void *
grow(void *p, size_t n, size_t sz)
{
	char	*q;

	if ((q = reallocarray(p, n + 1, sz)) == NULL)
		return NULL;
	memset(q + n * sz, 0, sz);
	return q;
}

int
ai_result_add_picture(struct ai_result *r, const char *name,
    const unsigned char *pix, int w, int h, int channels)
{
	struct ai_picture	*p;
	struct buf		 b;

	if ((p = grow(r->pictures, r->npictures, sizeof(*p))) == NULL)
		return -1;
	r->pictures = p;
	p += r->npictures;
	buf_init(&b, 0);
	if ((channels == 3 ? preview_png_encode_rgb(pix, w, h, &b) :
	    preview_png_encode(pix, w, h, &b)) == -1) {
		buf_free(&b);
		return -1;
	}
	(void)snprintf(p->name, sizeof(p->name), "%s", name);
	p->width = w;
	p->height = h;
	p->len = b.len;
	p->png = (unsigned char *)buf_take(&b);
	r->npictures++;
	return 0;
}

int
ai_result_set_extra(struct ai_result *r, const char *json)
{
	char	*s;

	if ((s = strdup(json)) == NULL)
		return -1;
	free(r->extra);
	r->extra = s;
	return 0;
}

int
ai_result_set_masks(struct ai_result *r, uint8_t *lab, int nx, int ny,
    int nz, const char *legend)
{
	json_t	*lg;
	char	*s;

	if (lab == NULL || nx < 1 || ny < 1 || nz < 1 || legend == NULL ||
	    (lg = json_loads(legend, 0, NULL)) == NULL) {
		free(lab);
		return -1;
	}
	/* Where the viewer names each region over the 三维 picture. */
	if (!json_is_array(lg) || masks_legend_centres(lg, lab, nx, ny, nz) ==
	    -1 || (s = json_dumps(lg, JSON_COMPACT)) == NULL) {
		json_decref(lg);
		free(lab);
		return -1;
	}
	json_decref(lg);
	free(r->masks);
	free(r->masks_legend);
	r->masks = lab;
	r->masks_dims[0] = nx;
	r->masks_dims[1] = ny;
	r->masks_dims[2] = nz;
	r->masks_legend = s;
	return 0;
}

/* Bytes as a bytea's hex text ("\\x..."), malloc'ed; NULL when out of
 * memory. */
static char *
bytea_hex(const unsigned char *b, size_t len)
{
	static const char hx[] = "0123456789abcdef";
	char	*t;
	size_t	 i;

	if ((t = malloc(2 * len + 3)) == NULL)
		return NULL;
	t[0] = '\\';
	t[1] = 'x';
	for (i = 0; i < len; i++) {
		t[2 + 2 * i] = hx[b[i] >> 4];
		t[3 + 2 * i] = hx[b[i] & 15];
	}
	t[2 + 2 * len] = '\0';
	return t;
}

/* The regions of a result into ai_result_masks, deflated (masks.h). */
static int
masks_store(PGconn *c, const char *rid, const struct ai_result *res)
{
	struct buf	 z;
	char		 d[3][16], raw[32], *t;
	size_t		 n;
	int		 rc;

	n = (size_t)res->masks_dims[0] * (size_t)res->masks_dims[1] *
	    (size_t)res->masks_dims[2];
	buf_init(&z, 0);
	if (masks_encode(res->masks, n, &z) == -1 ||
	    (t = bytea_hex((const unsigned char *)z.data, z.len)) == NULL) {
		log_error("%s: result %s: out of memory", __func__, rid);
		buf_free(&z);
		return -1;
	}
	(void)snprintf(d[0], sizeof(d[0]), "%d", res->masks_dims[0]);
	(void)snprintf(d[1], sizeof(d[1]), "%d", res->masks_dims[1]);
	(void)snprintf(d[2], sizeof(d[2]), "%d", res->masks_dims[2]);
	(void)snprintf(raw, sizeof(raw), "%zu", n);
	log_info("result %s: masks %s x %s x %s, %zu bytes deflated from %zu",
	    rid, d[0], d[1], d[2], z.len, n);
	buf_free(&z);
	rc = db_cmd(c, "INSERT INTO ai_result_masks (result_id, nx, ny, nz,"
	    " legend, raw_bytes, data) VALUES ($1::bigint, $2::int, $3::int,"
	    " $4::int, $5::jsonb, $6::bigint, $7::bytea)", 7, rid, d[0], d[1],
	    d[2], res->masks_legend, raw, t);
	free(t);
	return rc;
}

/* A picture into ai_result_pictures (bytea as hex text). */
static int
picture_store(PGconn *c, const char *rid, const struct ai_picture *p)
{
	static const char hx[] = "0123456789abcdef";
	char	*t, w[16], h[16];
	size_t	 i;
	int	 rc;

	if ((t = malloc(2 * p->len + 3)) == NULL)
		return -1;
	t[0] = '\\';
	t[1] = 'x';
	for (i = 0; i < p->len; i++) {
		t[2 + 2 * i] = hx[p->png[i] >> 4];
		t[3 + 2 * i] = hx[p->png[i] & 15];
	}
	t[2 + 2 * p->len] = '\0';
	(void)snprintf(w, sizeof(w), "%d", p->width);
	(void)snprintf(h, sizeof(h), "%d", p->height);
	rc = db_cmd(c, "INSERT INTO ai_result_pictures (result_id, name,"
	    " width, height, png) VALUES ($1::bigint, $2, $3::int, $4::int,"
	    " $5::bytea)", 5, rid, p->name, w, h, t);
	free(t);
	return rc;
}

struct ai_lesion *
ai_result_add_lesion(struct ai_result *r, const struct ai_lesion *l)
{
	struct ai_lesion	*p;

	if ((p = grow(r->lesions, r->nlesions, sizeof(*p))) == NULL)
		return NULL;
	r->lesions = p;
	p[r->nlesions] = *l;
	return &p[r->nlesions++];
}

int
ai_result_add_summary(struct ai_result *r, const char *name, double value,
    const char *unit)
{
	struct ai_measure	*p;

	if ((p = grow(r->summary, r->nsummary, sizeof(*p))) == NULL)
		return -1;
	r->summary = p;
	p += r->nsummary++;
	(void)snprintf(p->name, sizeof(p->name), "%s", name);
	(void)snprintf(p->unit, sizeof(p->unit), "%s", unit);
	p->value = value;
	return 0;
}

int
ai_result_add_key(struct ai_result *r, const struct ai_key_image *k)
{
	struct ai_key_image	*p;

	if ((p = grow(r->keys, r->nkeys, sizeof(*p))) == NULL)
		return -1;
	r->keys = p;
	p[r->nkeys++] = *k;
	return 0;
}

struct ai_histogram *
ai_result_add_histogram(struct ai_result *r, const char *name, double lo,
    double width, const double *counts, size_t nbins)
{
	struct ai_histogram	*p;
	double			*c;

	if (nbins == 0 || (c = calloc(nbins, sizeof(*c))) == NULL)
		return NULL;
	if ((p = grow(r->hists, r->nhists, sizeof(*p))) == NULL) {
		free(c);
		return NULL;
	}
	r->hists = p;
	p += r->nhists++;
	(void)snprintf(p->name, sizeof(p->name), "%s", name);
	p->lo = lo;
	p->width = width;
	memcpy(c, counts, nbins * sizeof(*c));
	p->counts = c;
	p->nbins = nbins;
	return p;
}

void
ai_text_fig(char *b, size_t sz, double x)
{
	if (fabs(x - round(x)) < 0.05)
		(void)snprintf(b, sz, "%.0f", round(x));
	else
		(void)snprintf(b, sz, "%.1f", x);
}

int
ai_text_append(char **s, size_t *len, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;
	char	*p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (p = realloc(*s, *len + (size_t)n + 1)) == NULL)
		return -1;
	*s = p;
	va_start(ap, fmt);
	(void)vsnprintf(p + *len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	*len += (size_t)n;
	return 0;
}

int
ai_result_set_text(struct ai_result *r, const char *findings,
    const char *conclusion)
{
	char	*f, *c;

	if ((f = strdup(findings)) == NULL)
		return -1;
	if ((c = strdup(conclusion)) == NULL) {
		free(f);
		return -1;
	}
	free(r->findings);
	free(r->conclusion);
	r->findings = f;
	r->conclusion = c;
	return 0;
}

int
ai_result_set_method(struct ai_result *r, const char *method)
{
	char	*m;

	if ((m = strdup(method)) == NULL)
		return -1;
	free(r->method);
	r->method = m;
	return 0;
}

int
ai_result_set_overlays(struct ai_result *r, const char *json)
{
	char	*m;

	if ((m = strdup(json)) == NULL)
		return -1;
	free(r->overlays);
	r->overlays = m;
	return 0;
}

int
ai_result_set_volume(struct ai_result *r, const struct series_volume *v)
{
	char	**u;
	int	  k;

	if (v->nz < 1 || (u = calloc((size_t)v->nz, sizeof(*u))) == NULL)
		return -1;
	for (k = 0; k < v->nz; k++)
		if ((u[k] = strdup(v->slices != NULL ?
		    v->slices[k].sop_uid : "")) == NULL) {
			while (k-- > 0)
				free(u[k]);
			free(u);
			return -1;
		}
	for (k = 0; k < (int)r->nslices; k++)
		free(r->slice_uids[k]);
	free(r->slice_uids);
	r->slice_uids = u;
	r->nslices = (size_t)v->nz;
	r->nx = v->nx;
	r->ny = v->ny;
	return 0;
}

/* A PostgreSQL array literal of the slice UIDs: {"1.2.3","1.2.4"}.  The
 * UIDs are checked to be digits and dots, so no quoting is needed inside
 * the quotes; anything else is stored as "". */
static char *
uids_literal(const struct ai_result *r)
{
	size_t	 i, len = 3, o = 0;
	char	*s;
	const char *u;

	for (i = 0; i < r->nslices; i++)
		len += strlen(r->slice_uids[i]) + 3;
	if ((s = malloc(len)) == NULL)
		return NULL;
	s[o++] = '{';
	for (i = 0; i < r->nslices; i++) {
		u = r->slice_uids[i];
		if (strspn(u, "0123456789.") != strlen(u))
			u = "";
		o += (size_t)sprintf(s + o, "%s\"%s\"", i ? "," : "", u);
	}
	s[o++] = '}';
	s[o] = '\0';
	return s;
}

/* [{"name": .., "value": .., "unit": ..}, ...] */
static json_t *
measures_json(const struct ai_measure *m, size_t n)
{
	json_t	*a;
	size_t	 i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (json_array_append_new(a, json_pack("{s:s, s:f, s:s}",
		    "name", m[i].name, "value", m[i].value, "unit",
		    m[i].unit)) == -1) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
keys_json(const struct ai_key_image *k, size_t n)
{
	json_t	*a;
	size_t	 i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (json_array_append_new(a, json_pack("{s:i, s:f, s:f, s:s}",
		    "slice", k[i].slice, "window_center", k[i].window_center,
		    "window_width", k[i].window_width, "caption",
		    k[i].caption)) == -1) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* [{"name": "右肺", "lo": -1000, "width": 10, "counts": [...],
 *   "open_below": true, "open_above": true, "measures": [{"name": .., "value": .., "unit": ..}]}, ...]; a count
 * or bound that is not finite is stored as 0. */
static json_t *
hists_json(const struct ai_histogram *h, size_t n)
{
	json_t	*a, *o, *c;
	size_t	 i, k;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((c = json_array()) == NULL)
			goto fail;
		for (k = 0; k < h[i].nbins; k++)
			if (json_array_append_new(c, json_real(
			    isfinite(h[i].counts[k]) ? h[i].counts[k] :
			    0.0)) == -1) {
				json_decref(c);
				goto fail;
			}
		o = json_pack("{s:s, s:f, s:f, s:o, s:b, s:b, s:o}", "name",
		    h[i].name, "lo", isfinite(h[i].lo) ? h[i].lo : 0.0, "width",
		    isfinite(h[i].width) ? h[i].width : 0.0, "counts", c,
		    "open_below", h[i].open_below != 0, "open_above",
		    h[i].open_above != 0, "measures",
		    measures_json(h[i].meas, h[i].nmeas));
		if (o == NULL || json_array_append_new(a, o) == -1)
			goto fail;
	}
	return a;
fail:
	json_decref(a);
	return NULL;
}

/* The JSON text of j (consumed), or NULL. */
static char *
json_take(json_t *j)
{
	char	*s;

	if (j == NULL)
		return NULL;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static int
lesion_store(PGconn *c, const char *rid, const struct ai_lesion *l)
{
	char	 idx[16], sl[16], x0[16], y0[16], x1[16], y1[16], conf[32];
	char	*meas;
	int	 rc;

	if ((meas = json_take(measures_json(l->meas, l->nmeas))) == NULL)
		return -1;
	(void)snprintf(idx, sizeof(idx), "%d", l->id);
	(void)snprintf(sl, sizeof(sl), "%d", l->box.slice);
	(void)snprintf(x0, sizeof(x0), "%d", l->box.x0);
	(void)snprintf(y0, sizeof(y0), "%d", l->box.y0);
	(void)snprintf(x1, sizeof(x1), "%d", l->box.x1);
	(void)snprintf(y1, sizeof(y1), "%d", l->box.y1);
	(void)snprintf(conf, sizeof(conf), "%.6f", l->confidence);
	rc = db_cmd(c, "INSERT INTO ai_lesions (result_id, idx, type,"
	    " location, measurements, slice, x0, y0, x1, y1, confidence,"
	    " findings_text, conclusion_text)"
	    " VALUES ($1::bigint, $2::int, $3, $4, $5::jsonb, $6::int,"
	    " $7::int, $8::int, $9::int, $10::int, $11::double precision,"
	    " $12, $13)",
	    13, rid, idx, l->type, l->location, meas, sl, x0, y0, x1, y1,
	    conf, l->findings, l->conclusion);
	free(meas);
	return rc;
}

int
ai_result_store(PGconn *c, long long job_id, long long series_id,
    const char *reader, const char *worker, const char *backend,
    const struct ai_result *res)
{
	PGresult	*r = NULL;
	struct audit	 a;
	char		 jid[32], sid[32], rid[32], *summary = NULL;
	char		*keys = NULL, *detail = NULL, *uids = NULL;
	char		*hists = NULL;
	char		 nx[16], ny[16];
	size_t		 i;
	int		 rc = -1;

	(void)snprintf(jid, sizeof(jid), "%lld", job_id);
	(void)snprintf(sid, sizeof(sid), "%lld", series_id);
	(void)snprintf(nx, sizeof(nx), "%d", res->nx);
	(void)snprintf(ny, sizeof(ny), "%d", res->ny);
	if ((uids = uids_literal(res)) == NULL ||
	    (summary = json_take(measures_json(res->summary,
	    res->nsummary))) == NULL ||
	    (keys = json_take(keys_json(res->keys, res->nkeys))) == NULL ||
	    (hists = json_take(hists_json(res->hists, res->nhists))) == NULL ||
	    (detail = json_take(json_pack("{s:s, s:s, s:s, s:i}", "reader",
	    reader, "worker", worker, "backend", backend, "lesions",
	    (int)res->nlesions))) == NULL) {
		log_error("%s: job %s: out of memory", __func__, jid);
		goto fail;
	}
	if (db_begin(c) == -1)
		goto fail;
	/* First the job: it must still be ours, and it stays locked until
	 * the result is in. */
	r = db_exec(c, "UPDATE ai_jobs SET state = 'done', error = '',"
	    " leased_by = NULL, lease_until = NULL, updated_at = now(),"
	    " finished_at = now() WHERE id = $1::bigint AND leased_by = $2"
	    " AND state = 'running'", 2, jid, worker);
	if (r == NULL)
		goto fail;
	if (atoi(PQcmdTuples(r)) != 1) {
		rc = 0;
		goto fail;
	}
	PQclear(r);
	r = db_exec(c, "INSERT INTO ai_results (job_id, series_id, reader,"
	    " backend, worker, summary, key_images, findings_text,"
	    " conclusion_text, method, slice_uids, nx, ny, histograms, extra,"
	    " overlays)"
	    " VALUES ($1::bigint, $2::bigint, $3, $4, $5,"
	    " $6::jsonb, $7::jsonb, $8, $9, $10, $11::text[], $12::int,"
	    " $13::int, $14::jsonb, $15::jsonb, $16::jsonb)"
	    " ON CONFLICT (series_id, reader) DO UPDATE SET"
	    " job_id = EXCLUDED.job_id, backend = EXCLUDED.backend,"
	    " worker = EXCLUDED.worker, summary = EXCLUDED.summary,"
	    " key_images = EXCLUDED.key_images,"
	    " findings_text = EXCLUDED.findings_text,"
	    " conclusion_text = EXCLUDED.conclusion_text,"
	    " method = EXCLUDED.method, slice_uids = EXCLUDED.slice_uids,"
	    " nx = EXCLUDED.nx, ny = EXCLUDED.ny,"
	    " histograms = EXCLUDED.histograms, extra = EXCLUDED.extra,"
	    " overlays = EXCLUDED.overlays, updated_at = now()"
	    " RETURNING id", 16, jid, sid, reader, backend, worker, summary,
	    keys, res->findings ? res->findings : "",
	    res->conclusion ? res->conclusion : "",
	    res->method ? res->method : "", uids, nx, ny, hists,
	    res->extra != NULL ? res->extra : "{}",
	    res->overlays ? res->overlays : "{}");
	if (r == NULL || PQntuples(r) != 1)
		goto fail;
	(void)snprintf(rid, sizeof(rid), "%s", db_val(r, 0, 0));
	if (db_cmd(c, "DELETE FROM ai_lesions WHERE result_id = $1::bigint",
	    1, rid) == -1)
		goto fail;
	for (i = 0; i < res->nlesions; i++)
		if (lesion_store(c, rid, &res->lesions[i]) == -1)
			goto fail;
	if (db_cmd(c, "DELETE FROM ai_result_pictures"
	    " WHERE result_id = $1::bigint", 1, rid) == -1)
		goto fail;
	for (i = 0; i < res->npictures; i++)
		if (picture_store(c, rid, &res->pictures[i]) == -1)
			goto fail;
	if (db_cmd(c, "DELETE FROM ai_result_masks"
	    " WHERE result_id = $1::bigint", 1, rid) == -1 ||
	    (res->masks != NULL && masks_store(c, rid, res) == -1))
		goto fail;
	memset(&a, 0, sizeof(a));
	a.actor_login = worker;
	a.action = "ai_result_stored";
	a.object_type = "ai_job";
	a.object_id = jid;
	a.channel = "inferd";
	a.detail = detail;
	if (audit_write(c, &a) == -1 || db_commit(c) == -1)
		goto fail;
	rc = 1;
fail:
	if (rc != 1)
		db_rollback(c);
	PQclear(r);
	free(summary);
	free(keys);
	free(hists);
	free(detail);
	free(uids);
	return rc;
}

int
reader_calibration(PGconn *c, const struct series_volume *v,
    struct reader_ctx *ctx)
{
	PGresult	*r;
	char		 kv[32];

	ctx->cac_calibration = 0.0;
	ctx->cac_calibration_from[0] = '\0';
	(void)snprintf(kv, sizeof(kv), "%.0f", isfinite(v->kvp) &&
	    v->kvp > 0.0 ? v->kvp : 120.0);
	r = db_exec(c, "SELECT factor::float8, btrim(manufacturer ||"
	    " coalesce(' ' || nullif(model, ''), '') ||"
	    " coalesce(' ' || kvp::text || ' kV', ''))"
	    " FROM cac_calibrations"
	    " WHERE lower(btrim($1)) LIKE lower(btrim(manufacturer)) || '%'"
	    " AND (model = '' OR lower(btrim(model)) = lower(btrim($2)))"
	    " AND (kvp IS NULL OR abs(kvp - $3::numeric) < 1)"
	    " ORDER BY (model <> '') DESC, (kvp IS NOT NULL) DESC LIMIT 1",
	    3, v->manufacturer, v->model, kv);
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		ctx->cac_calibration = strtod(PQgetvalue(r, 0, 0), NULL);
		(void)snprintf(ctx->cac_calibration_from,
		    sizeof(ctx->cac_calibration_from), "%s",
		    PQgetvalue(r, 0, 1));
	}
	PQclear(r);
	return ctx->cac_calibration > 0.0;
}

enum reader_verdict
reader_check_chest_ct(const struct series_volume *v, const char *what,
    double max_mm, const char *gap_zh, const char *tilt_zh, char *why,
    size_t sz)
{
	double	 dz = fabs(v->spacing[2]), cover = dz * (v->nz - 1);

	/* The region (胸部平扫、胸腹连扫) is the matcher's rule, from the
	 * headers; here what the volume itself shows. */
	if (strcmp(v->modality, "CT") != 0) {
		(void)snprintf(why, sz, "非CT序列，%s不适用", what);
		return READER_REFUSES;
	}
	if (fabs(v->normal[2]) < 0.9) {
		(void)snprintf(why, sz, "非横断面序列，%s需要横断面重建", what);
		return READER_REFUSES;
	}
	if (v->nz < MATCH_MIN_SLICES) {
		(void)snprintf(why, sz, "层数过少（%d层），无法进行%s", v->nz,
		    what);
		return READER_REFUSES;
	}
	if (dz > max_mm + 0.05 || (isfinite(v->slice_thickness) &&
	    v->slice_thickness > max_mm + 0.05)) {
		(void)snprintf(why, sz, "层厚/层距 %.3g/%.3g mm，超过%s允许的 %g mm"
		    "（建议 1.25 mm）", isfinite(v->slice_thickness) ?
		    v->slice_thickness : dz, dz, what, max_mm);
		return READER_REFUSES;
	}
	if (v->spacing_max > 1.5 * v->spacing_median + 0.01) {
		(void)snprintf(why, sz, "层面位置不连续（最大层距 %.3g mm，"
		    "中位层距 %.3g mm），存在缺层，%s", v->spacing_max,
		    v->spacing_median, gap_zh);
		return READER_REFUSES;
	}
	if (v->tilt_deg > 1.0 || (isfinite(v->gantry_tilt) &&
	    fabs(v->gantry_tilt) > 1.0)) {
		(void)snprintf(why, sz, "机架倾斜 %.1f°，%s需要无倾斜的横断面序列",
		    isfinite(v->gantry_tilt) && fabs(v->gantry_tilt) >
		    v->tilt_deg ? fabs(v->gantry_tilt) : v->tilt_deg, tilt_zh);
		return READER_REFUSES;
	}
	if (cover < 100.0) {
		(void)snprintf(why, sz, "扫描范围不足（%.0f mm），未包含完整"
		    "肺部", cover);
		return READER_REFUSES;
	}
	return READER_FITS;
}

int
reader_chest_lungs(const struct reader_ctx *ctx,
    const struct series_volume *v, const char *what, const char *what_en,
    struct anatomy_cache **own, const struct anatomy **an, char *err,
    size_t errlen)
{
	struct anatomy_cache	*cache = ctx->anatomy;
	char			 e2[256];

	*own = NULL;
	*an = NULL;
	if (cache == NULL && (cache = *own = anatomy_cache_new()) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (anatomy_get(cache, ctx->compute, v, ctx->series_id,
	    ANAT_LUNGS | ANAT_LOBES, an, e2, sizeof(e2)) == -1) {
		log_warnx("series %lld: %s: lobes: %s; the lungs alone",
		    ctx->series_id, what_en, e2);
		if (anatomy_get(cache, ctx->compute, v, ctx->series_id,
		    ANAT_LUNGS, an, err, errlen) == -1)
			return -1;
	}
	if (ctx->cancel != NULL && *ctx->cancel) {
		(void)snprintf(err, errlen, "cancelled");
		return -1;
	}
	if ((*an)->lung[LUNG_RIGHT].volume_ml + (*an)->lung[LUNG_LEFT].volume_ml <
	    READER_LUNGS_MIN_ML) {
		(void)snprintf(err, errlen, "%s，无法进行%s",
		    (*an)->lungs_why[0] != '\0' ? (*an)->lungs_why :
		    "未找到肺野", what);
		return 1;
	}
	if ((*an)->lungs_complete == 0) {
		(void)snprintf(err, errlen, "肺部未完整包含在扫描范围内（%s），"
		    "%s要求包含完整肺部", (*an)->lungs_why, what);
		return 1;
	}
	return 0;
}

int
reader_masks_lungs(const struct anatomy *an, const struct series_volume *v,
    uint8_t **lab, json_t *legend)
{
	size_t	 n;
	long	 i;
	int	 l, lobes;
	uint8_t	*o;

	n = (size_t)v->nx * (size_t)v->ny * (size_t)v->nz;
	*lab = NULL;
	lobes = (an->have & ANAT_LOBES) && an->lobes != NULL;
	if (lobes) {
		/* Every voxel written: no zeroing first; the threads share
		 * the volume (each its own pages, first touched there). */
		if ((*lab = o = malloc(n)) == NULL)
			return -1;
#pragma omp parallel for schedule(static)
		for (i = 0; i < (long)n; i++)
			o[i] = an->lobes[i] > LOBE_NONE &&
			    an->lobes[i] < LOBE__MAX ? an->lobes[i] : 0;
		for (l = LOBE_RUL; l < LOBE__MAX; l++)
			if (masks_legend_add(legend, l, lobe_zh[l], MASKS_LOBE,
			    l - 1) == -1)
				goto fail;
	} else if ((*lab = calloc(n, 1)) == NULL)
		return -1;
	else if (an->lungs != NULL) {
		for (i = 0; i < (long)n; i++)
			if (an->lungs[i] == LUNG_RIGHT ||
			    an->lungs[i] == LUNG_LEFT)
				(*lab)[i] = an->lungs[i];
		for (l = LUNG_RIGHT; l < LUNG_SIDE__MAX; l++)
			if (masks_legend_add(legend, l, lung_side_zh[l],
			    MASKS_LOBE, l == LUNG_RIGHT ? 0 : 3) == -1)
				goto fail;
	}
	return 0;
fail:
	free(*lab);
	*lab = NULL;
	return -1;
}
