/*
 * tbeval - the tuberculosis reader of chest films against the sets' truth.
 *
 *	tbeval [-d datadir] [-p dir] [-F]
 *
 * Runs the film loader (film.h) and the reader's detector (tb.h) as
 * zhiying-inferd does, on the films of datadir (default $ZY_DATA, else
 * ../shared/data), and prints:
 *
 *  - dr/tb (30 TB, 30 normal, truth.csv): the ROC AUC of the image score
 *    (Mann-Whitney, ties half) with a percentile bootstrap 95 % interval
 *    (2000 resamples stratified by class, fixed seed), and the
 *    sensitivity and specificity at TB_THRESHOLD; the same of the score
 *    raised to the confidence of an effusion or a cavity (the fusion the
 *    reader does not make, because of this figure), and how many films
 *    of each label had an effusion or a cavity reported.  The score's
 *    logistic
 *    weights were fitted on these 60 films, so the figure is an
 *    in-sample one; the AUC of a leave-one-out refit (each film scored by
 *    weights fitted on the other 59, the same ridge) is printed beside as
 *    a fairer estimate; it still refits only the weights of the two
 *    features chosen on all 60.  The nested leave-one-out figure makes
 *    the choice of features too inside each fold: for each film,
 *    forward selection among NCAND candidate features (candidates())
 *    by the inner stratified 5-fold cross-validated AUC on the other
 *    59, up to SELMAX features, then the ridge fit on those 59, the
 *    film scored by it; the AUC of these held-out scores is the one
 *    figure in which nothing was tuned on the film scored.
 *  - dr/tb-boxes (30 TB films, 46 boxes): a truth box is hit when a
 *    reported box overlaps it with IoU >= 0.3; a reported box that
 *    overlaps none is false; the effusion and cavity boxes are also
 *    counted apart (dr/tb-boxes marks TB lesions of any kind, so an
 *    effusion box counts as hit only where a truth box covers the
 *    recess).  Also the boxes reported on the normal films
 *    of dr/tb, per image.
 *  - the seconds per film of the detector (load apart) on this machine.
 *
 * -F prints each film's label, features (tb_feature_names[]) and zone
 * figures (tb_result.aux) and exits after the fit (to refit
 * tb_weights[]: the weights fitted on all 60 are printed).  -p dir writes
 * each film with its lung fields (grey) and its boxes (white), reported,
 * and truth (dashed), as dir/NAME.png.
 *
 * It also prints how many of these PA films the image alone calls
 * frontal (film_view_of_image()).
 *
 * Exits 1 when the guard fails (AUC below 0.70, nested AUC below 0.65,
 * an effusion reported on more than 5 of the 30 normal films,
 * sensitivity or
 * specificity below 0.60, fewer than a third of the truth boxes hit, more
 * than 3 false boxes per image, over 2 s per film, a PA film taken for a
 * lateral one by its image), 77 when the data is
 * absent, saying so as the cmocka programs do, for make check.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "film.h"
#include "filmeval.h"
#include "phantom.h"
#include "preview.h"
#include "tb.h"

#define MAXF	64
#define MAXB	128

static const char	*pic_dir;
/* Films the image alone calls frontal, lateral, and films seen. */
static int		 img_frontal, img_lateral, img_seen;

/* The Mann-Whitney AUC of scores s with labels y (1 positive). */
static double
auc(const double *s, const int *y, int n)
{
	double	 a = 0;
	int	 i, j, np = 0, nn = 0;

	for (i = 0; i < n; i++)
		if (y[i]) {
			np++;
			for (j = 0; j < n; j++)
				if (!y[j])
					a += s[i] > s[j] ? 1 : s[i] == s[j] ?
					    0.5 : 0;
		} else
			nn++;
	return np && nn ? a / ((double)np * nn) : NAN;
}

/* A percentile bootstrap 95 % interval of the AUC, stratified. */
static void
auc_ci(const double *s, const int *y, int n, double *lo, double *hi)
{
	static double	 a[2000];
	double		 bs[MAXF];
	int		 by[MAXF], pos[MAXF], neg[MAXF], np = 0, nn = 0, i, k;

	for (i = 0; i < n; i++)
		if (y[i])
			pos[np++] = i;
		else
			neg[nn++] = i;
	for (k = 0; k < 2000; k++) {
		for (i = 0; i < np; i++) {
			bs[i] = s[pos[fe_rnd(np)]];
			by[i] = 1;
		}
		for (i = 0; i < nn; i++) {
			bs[np + i] = s[neg[fe_rnd(nn)]];
			by[np + i] = 0;
		}
		a[k] = auc(bs, by, n);
	}
	qsort(a, 2000, sizeof(double), fe_cmp_double);
	*lo = a[49];
	*hi = a[1949];
}

/*
 * Fit the logistic model of the p columns cols[] of X (n rows, stride
 * values apart) to y by Newton's method with a ridge of lambda on the
 * weights (columns standardised inside, weights given back on the raw
 * scale), on the rows where use[] is set (NULL: all).  w gets p + 1
 * values, the intercept last.
 */
#define PMAX	8
static void
fitg(const double *X, int stride, const int *cols, int p, const int *y,
    int n, const int *use, double lambda, double *w)
{
	double	 mu[PMAX] = { 0 }, sd[PMAX] = { 0 }, b[PMAX + 1] = { 0 },
		 H[PMAX + 1][PMAX + 1], gr[PMAX + 1], z[PMAX + 1], pr, m, step;
	int	 i, j, k, it, cnt = 0, c, piv, P = p + 1;

	for (i = 0; i < n; i++) {
		if (use != NULL && !use[i])
			continue;
		cnt++;
		for (j = 0; j < p; j++)
			mu[j] += X[i * stride + cols[j]];
	}
	for (j = 0; j < p; j++)
		mu[j] /= cnt;
	for (i = 0; i < n; i++)
		if (use == NULL || use[i])
			for (j = 0; j < p; j++) {
				m = X[i * stride + cols[j]] - mu[j];
				sd[j] += m * m;
			}
	for (j = 0; j < p; j++)
		sd[j] = sqrt(sd[j] / cnt) + 1e-12;
	for (it = 0; it < 50; it++) {
		memset(H, 0, sizeof(H));
		memset(gr, 0, sizeof(gr));
		for (i = 0; i < n; i++) {
			if (use != NULL && !use[i])
				continue;
			for (j = 0; j < p; j++)
				z[j] = (X[i * stride + cols[j]] - mu[j]) / sd[j];
			z[p] = 1;
			for (m = 0, j = 0; j < P; j++)
				m += b[j] * z[j];
			pr = 1 / (1 + exp(-m));
			for (j = 0; j < P; j++) {
				gr[j] += (y[i] - pr) * z[j];
				for (k = 0; k < P; k++)
					H[j][k] += pr * (1 - pr) * z[j] * z[k];
			}
		}
		for (j = 0; j < p; j++) {
			gr[j] -= lambda * b[j];
			H[j][j] += lambda;
		}
		/* Solve H d = gr (Gauss-Jordan with pivoting). */
		for (c = 0; c < P; c++) {
			piv = c;
			for (k = c + 1; k < P; k++)
				if (fabs(H[k][c]) > fabs(H[piv][c]))
					piv = k;
			for (k = 0; k < P; k++) {
				m = H[c][k];
				H[c][k] = H[piv][k];
				H[piv][k] = m;
			}
			m = gr[c];
			gr[c] = gr[piv];
			gr[piv] = m;
			for (k = 0; k < P; k++)
				if (k != c && H[c][c] != 0) {
					double	 f = H[k][c] / H[c][c];
					int	 l;

					for (l = 0; l < P; l++)
						H[k][l] -= f * H[c][l];
					gr[k] -= f * gr[c];
				}
		}
		for (step = 0, j = 0; j < P; j++) {
			m = H[j][j] != 0 ? gr[j] / H[j][j] : 0;
			b[j] += m;
			step = fmax(step, fabs(m));
		}
		if (step < 1e-9)
			break;
	}
	w[p] = b[p];
	for (j = 0; j < p; j++) {
		w[j] = b[j] / sd[j];
		w[p] -= b[j] * mu[j] / sd[j];
	}
}

/* The reader's model (TB_NFEAT features of x), leaving row skip out
 * (-1: none); w gets TB_NFEAT + 1 values. */
static void
fit(double x[][TB_NFEAT], const int *y, int n, int skip, double lambda,
    double *w)
{
	int	 cols[TB_NFEAT], use[MAXF], i;

	for (i = 0; i < TB_NFEAT; i++)
		cols[i] = i;
	for (i = 0; i < n; i++)
		use[i] = i != skip;
	fitg(&x[0][0], TB_NFEAT, cols, TB_NFEAT, y, n, use, lambda, w);
}

/* The linear predictor of row r of X under the p columns and w. */
static double
predict(const double *X, int stride, const int *cols, int p, int r,
    const double *w)
{
	double	 z = w[p];
	int	 j;

	for (j = 0; j < p; j++)
		z += w[j] * X[r * stride + cols[j]];
	return z;
}

/*
 * The candidate features of the image score: those the reader computes
 * for each film (tb_result.feat, aux, burden) and simple
 * combinations of them, among which its two were chosen.  The nested
 * evaluation chooses among these inside each fold.
 */
#define NCAND	14
static const char *const cand_name[NCAND] = {
	"upper_excess", "upper_texture", "lower_texture", "excess_right",
	"excess_left", "upper_asymmetry", "upper_density", "lower_density",
	"mediastinum", "lung_height", "lung_area", "area_asymmetry",
	"burden", "texture_ratio"
};

static void
candidates(const struct tb_result *r, double *c)
{
	const double	*a = r->aux;

	c[0] = r->feat[0];
	c[1] = a[7];
	c[2] = a[8];
	c[3] = a[0] - a[2];
	c[4] = a[1] - a[3];
	c[5] = fabs(a[0] - a[1]);
	c[6] = (a[0] + a[1]) / 2;
	c[7] = (a[2] + a[3]) / 2;
	c[8] = a[4];
	c[9] = (a[5] + a[6]) / 2;
	c[10] = a[9] + a[10];
	c[11] = fabs(a[9] - a[10]) / fmax(a[9] + a[10], 1e-9);
	c[12] = r->burden;
	c[13] = a[7] / fmax(a[8], 1e-6);
}

/* The number of candidate features the nested selection may take. */
#define SELMAX	3

/*
 * The cross-validated AUC, on the rows where use[] is set, of the model
 * of columns cols[] (p): stratified k-fold (fold of a row: its rank
 * within its class modulo k), the held-out scores pooled.
 */
static double
cv_auc(const double *X, const int *cols, int p, const int *y, int n,
    const int *use, int k)
{
	double	 s[MAXF], w[PMAX + 1];
	int	 fold[MAXF] = { 0 }, tr[MAXF] = { 0 }, ys[MAXF], cnt[2] = { 0, 0 },
		 f, i, m = 0;

	for (i = 0; i < n; i++)
		if (use[i])
			fold[i] = cnt[y[i]]++ % k;
	for (f = 0; f < k; f++) {
		for (i = 0; i < n; i++)
			tr[i] = use[i] && fold[i] != f;
		fitg(X, NCAND, cols, p, y, n, tr, 0.1, w);
		for (i = 0; i < n; i++)
			if (use[i] && fold[i] == f)
				s[i] = predict(X, NCAND, cols, p, i, w);
	}
	for (i = 0; i < n; i++)
		if (use[i]) {
			s[m] = s[i];
			ys[m++] = y[i];
		}
	return auc(s, ys, m);
}

/*
 * Forward selection on the rows where use[] is set: add the candidate
 * that most raises the inner 5-fold cross-validated AUC, up to SELMAX,
 * stopping when none raises it by 0.005.  Fills cols[], returns p.
 */
static int
select_features(const double *X, const int *y, int n, const int *use,
    int *cols)
{
	double	 best = 0.5, a, ba;
	int	 p = 0, c, bc, j, taken;

	while (p < SELMAX) {
		bc = -1;
		ba = best;
		for (c = 0; c < NCAND; c++) {
			for (taken = 0, j = 0; j < p; j++)
				taken |= cols[j] == c;
			if (taken)
				continue;
			cols[p] = c;
			a = cv_auc(X, cols, p + 1, y, n, use, 5);
			if (a > ba + 0.005) {
				ba = a;
				bc = c;
			}
		}
		if (bc < 0)
			break;
		cols[p++] = bc;
		best = ba;
	}
	return p;
}

/*
 * The nested leave-one-out evaluation: for each film, the features are
 * chosen (select_features()) and the weights fitted on the other films
 * only, and the film scored by them.  Fills s[] (linear predictors) and
 * chosen[] (how often each candidate was taken).
 */
static void
nested_loo(const double *X, const int *y, int n, double *s, int *chosen)
{
	int	 use[MAXF], cols[SELMAX], p, i, j;
	double	 w[PMAX + 1];

	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++)
			use[j] = j != i;
		p = select_features(X, y, n, use, cols);
		if (p == 0) {
			s[i] = 0;
			continue;
		}
		fitg(X, NCAND, cols, p, y, n, use, 0.1, w);
		s[i] = predict(X, NCAND, cols, p, i, w);
		for (j = 0; j < p; j++)
			chosen[cols[j]]++;
	}
}

static void
picture(const char *name, const struct film *f, const struct tb_result *r,
    const struct fe_box *tb, int ntb)
{
	unsigned char	*g;
	char		 path[1024];
	size_t		 k, n = (size_t)f->nx * f->ny;
	int		 i;

	if (pic_dir == NULL || (g = malloc(n)) == NULL)
		return;
	for (k = 0; k < n; k++)
		g[k] = (unsigned char)(f->img[k] * 220);
	/* The lung fields' border. */
	fe_draw_outline(g, f, r->lungs, r->wx, r->wy, r->scale, 160);
	for (i = 0; i < (int)r->count; i++)
		fe_draw_box(g, f->nx, f->ny, r->lesions[i].x0, r->lesions[i].y0,
		    r->lesions[i].x1, r->lesions[i].y1, 0);
	fe_draw_truth(g, f, tb, ntb, name);
	(void)snprintf(path, sizeof(path), "%s/%s.png", pic_dir, name);
	(void)fe_write_png(path, g, f->nx, f->ny);
	free(g);
}

static double
iou(const struct tb_lesion *l, const struct fe_box *b)
{
	return fe_iou(l->x0, l->y0, l->x1, l->y1, b);
}

/* Run the detector on dir/name; 0, or -1 (said). */
static int
run_one(const char *dir, const char *name, struct film **f,
    struct tb_result *r, double *secs)
{
	char	 path[1024], err[512];
	double	 t0;
	int	 rc;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (film_load(path, NULL, f, err, sizeof(err)) == -1) {
		printf("%s: %s\n", name, err);
		return -1;
	}
	switch (film_view_of_image(*f, NULL)) {
	case FILM_VIEW_FRONTAL:
		img_frontal++;
		break;
	case FILM_VIEW_LATERAL:
		img_lateral++;
		break;
	default:
		break;
	}
	img_seen++;
	t0 = fe_now();
	if (tb_film_check(*f, err, sizeof(err)) != 0) {
		printf("%s: refused: %s\n", name, err);
		memset(r, 0, sizeof(*r));
		*secs = fe_now() - t0;
		return 0;
	}
	rc = tb_detect(*f, r, err, sizeof(err));
	*secs = fe_now() - t0;
	if (rc == 1)
		printf("%s: refused: %s\n", name, err);
	else if (rc == -1) {
		printf("%s: %s\n", name, err);
		film_free(*f);
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	static double	 x[MAXF][TB_NFEAT], cx[MAXF][NCAND];
	struct fe_box	 tb[MAXB];
	struct film	*f;
	struct tb_result r;
	const char	*data = getenv("ZY_DATA");
	char		 dir[1024], path[1100], line[512], name[MAXF][32];
	double		 s[MAXF], sm[MAXF], loo[MAXF], w[TB_NFEAT + 1], lo, hi,
			 a, anest, secs, tsecs = 0, maxsecs = 0, fbox, fnorm;
	int		 y[MAXF], n = 0, ntb = 0, ch, features = 0, i, j, tp = 0,
			 fn = 0, tn = 0, fp = 0, hits = 0, falses = 0, nimg = 0,
			 nfilms = 0, normboxes = 0, nnorm = 0, fail = 0,
			 mtp = 0, mtn = 0, kind[2][2] = { { 0, 0 }, { 0, 0 } },
			 khits = 0, kfalse = 0, kboxes = 0;
	FILE		*fp_;

	while ((ch = getopt(argc, argv, "d:p:F")) != -1)
		switch (ch) {
		case 'd':
			data = optarg;
			break;
		case 'p':
			pic_dir = optarg;
			break;
		case 'F':
			features = 1;
			break;
		default:
			fprintf(stderr, "usage: tbeval [-d datadir] [-p dir]"
			    " [-F]\n");
			return 2;
		}
	if (data == NULL || *data == '\0')
		data = ZY_TOP_SRCDIR "/../shared/data";
	(void)snprintf(dir, sizeof(dir), "%s/dr/tb", data);
	(void)snprintf(path, sizeof(path), "%s/truth.csv", dir);
	if ((fp_ = fopen(path, "r")) == NULL) {
		printf("tbeval: %s absent: skipped\n", path);
		printf("[  SKIPPED ] 1 test(s).\n");
		return 77;
	}
	printf("dr/tb: image score (the weights were fitted on these 60"
	    " films: tuned on the set measured)\n");
	while (fgets(line, sizeof(line), fp_) != NULL && n < MAXF) {
		char	*c1 = strchr(line, ','), *c2;

		if (c1 == NULL || strncmp(line, "file,", 5) == 0)
			continue;
		*c1++ = '\0';
		if ((c2 = strchr(c1, ',')) != NULL)
			*c2 = '\0';
		(void)snprintf(name[n], sizeof(name[n]), "%.31s", line);
		y[n] = strcmp(c1, "normal") != 0;
		if (run_one(dir, name[n], &f, &r, &secs) == -1) {
			fail = 1;
			continue;
		}
		tsecs += secs;
		nfilms++;
		maxsecs = secs > maxsecs ? secs : maxsecs;
		for (j = 0; j < TB_NFEAT; j++)
			x[n][j] = r.feat[j];
		candidates(&r, cx[n]);
		s[n] = r.score;
		/* The alternative not taken: the score raised to the
		 * confidence of an effusion or a cavity. */
		sm[n] = r.score;
		for (j = 0; j < (int)r.count; j++)
			if ((r.lesions[j].type == TB_EFFUSION ||
			    r.lesions[j].type == TB_CAVITY) &&
			    r.lesions[j].confidence > sm[n])
				sm[n] = r.lesions[j].confidence;
		/* Films with an effusion (0) or a cavity (1) reported, by
		 * label. */
		for (j = 0; j < 2; j++) {
			size_t	 q;
			int	 has = 0;

			for (q = 0; q < r.count; q++)
				has |= r.lesions[q].type == (j ? TB_CAVITY :
				    TB_EFFUSION);
			kind[j][y[n]] += has;
		}
		if (features) {
			printf("%s %d", name[n], y[n]);
			for (j = 0; j < TB_NFEAT; j++)
				printf(" %.4f", r.feat[j]);
			printf(" zones");
			for (j = 0; j < 11; j++)
				printf(" %.4f", r.aux[j]);
			printf(" cp %.0f %.0f raised %.3f %.3f", r.cp_angle[0],
			    r.cp_angle[1], r.cp_raised[0], r.cp_raised[1]);
			printf(" score %.3f boxes %zu", r.score, r.count);
			for (j = 0; j < (int)r.count; j++)
				if (r.lesions[j].type == TB_EFFUSION ||
				    r.lesions[j].type == TB_CAVITY)
					printf(" %s %s %.2f",
					    r.lesions[j].type == TB_EFFUSION ?
					    "effusion" : "cavity",
					    r.lesions[j].side ? "left" : "right",
					    r.lesions[j].confidence);
			printf("\n");
		}
		if (!y[n]) {
			nnorm++;
			normboxes += (int)r.count;
		}
		picture(name[n], f, &r, NULL, 0);
		tb_result_free(&r);
		film_free(f);
		n++;
	}
	(void)fclose(fp_);
	fit(x, y, n, -1, 0.1, w);
	printf("weights fitted on all %d:", n);
	for (j = 0; j <= TB_NFEAT; j++)
		printf(" %.4g", w[j]);
	printf("\n");
	if (features)
		return 0;
	for (i = 0; i < n; i++) {
		double	 wi[TB_NFEAT + 1];

		fit(x, y, n, i, 0.1, wi);
		loo[i] = tb_score(x[i], wi);
	}
	for (i = 0; i < n; i++) {
		int	 pos = s[i] >= TB_THRESHOLD;

		tp += y[i] && pos;
		fn += y[i] && !pos;
		tn += !y[i] && !pos;
		fp += !y[i] && pos;
	}
	a = auc(s, y, n);
	auc_ci(s, y, n, &lo, &hi);
	printf("  AUC %.3f (bootstrap 95%% %.3f-%.3f), %d films\n", a, lo, hi,
	    n);
	printf("  at score >= %.2f: sensitivity %d/%d = %.2f, specificity"
	    " %d/%d = %.2f\n", TB_THRESHOLD, tp, tp + fn, tp + fn ?
	    (double)tp / (tp + fn) : NAN, tn, tn + fp, tn + fp ?
	    (double)tn / (tn + fp) : NAN);
	auc_ci(loo, y, n, &lo, &hi);
	printf("  leave-one-out refit: AUC %.3f (bootstrap 95%% %.3f-%.3f)\n",
	    auc(loo, y, n), lo, hi);
	{
		double	 ns[MAXF];
		int	 chosen[NCAND] = { 0 };

		nested_loo(&cx[0][0], y, n, ns, chosen);
		auc_ci(ns, y, n, &lo, &hi);
		anest = auc(ns, y, n);
		printf("  nested leave-one-out (features chosen among %d and"
		    " weights fitted inside each fold): AUC %.3f (bootstrap"
		    " 95%% %.3f-%.3f)\n    chosen, of %d folds:", NCAND,
		    anest, lo, hi, n);
		for (j = 0; j < NCAND; j++)
			if (chosen[j])
				printf(" %s %d", cand_name[j], chosen[j]);
		printf("\n");
	}
	for (i = 0; i < n; i++) {
		mtp += y[i] && sm[i] >= TB_THRESHOLD;
		mtn += !y[i] && sm[i] < TB_THRESHOLD;
	}
	auc_ci(sm, y, n, &lo, &hi);
	printf("  not used: the score raised to an effusion's or a cavity's"
	    " confidence: AUC %.3f (bootstrap 95%% %.3f-%.3f), sensitivity"
	    " %d/%d, specificity %d/%d\n", auc(sm, y, n), lo, hi, mtp, tp +
	    fn, mtn, tn + fp);
	printf("  effusion reported on %d TB and %d normal films, cavity on"
	    " %d TB and %d normal films\n", kind[0][1], kind[0][0],
	    kind[1][1], kind[1][0]);
	fnorm = nnorm ? (double)normboxes / nnorm : 0;
	printf("  boxes on the %d normal films: %.2f per image\n", nnorm,
	    fnorm);
	/* The effusion finder on normal films: 11 of 30 when an obtuse
	 * angle alone was called blunted, 2 with the meniscus asked. */
	if (kind[0][0] > 5)
		fail = 1;
	if (a < 0.70 || anest < 0.65 || tp + fn == 0 || (double)tp / (tp + fn) < 0.60 ||
	    tn + fp == 0 || (double)tn / (tn + fp) < 0.60)
		fail = 1;

	(void)snprintf(dir, sizeof(dir), "%s/dr/tb-boxes", data);
	(void)snprintf(path, sizeof(path), "%s/boxes.csv", dir);
	if ((ntb = fe_read_boxes(path, NULL, tb, MAXB)) >= 0) {
		for (i = 0; i < ntb; i++) {
			int	 hit = 0, k;

			if (i > 0 && strcmp(tb[i].file, tb[i - 1].file) == 0)
				continue;
			if (run_one(dir, tb[i].file, &f, &r, &secs) == -1) {
				fail = 1;
				continue;
			}
			nimg++;
			tsecs += secs;
			nfilms++;
			maxsecs = secs > maxsecs ? secs : maxsecs;
			for (k = 0; k < (int)r.count; k++) {
				int	 any = 0;

				for (j = i; j < ntb && strcmp(tb[j].file,
				    tb[i].file) == 0; j++)
					any |= iou(&r.lesions[k], &tb[j]) >=
					    0.3;
				falses += !any;
				if (r.lesions[k].type == TB_EFFUSION ||
				    r.lesions[k].type == TB_CAVITY) {
					kboxes++;
					kfalse += !any;
				}
			}
			for (j = i; j < ntb && strcmp(tb[j].file,
			    tb[i].file) == 0; j++) {
				for (k = 0, hit = 0; k < (int)r.count; k++)
					hit |= iou(&r.lesions[k], &tb[j]) >=
					    0.3;
				hits += hit;
				for (k = 0, hit = 0; k < (int)r.count; k++)
					hit |= (r.lesions[k].type ==
					    TB_EFFUSION || r.lesions[k].type ==
					    TB_CAVITY) && iou(&r.lesions[k],
					    &tb[j]) >= 0.3;
				khits += hit;
			}
			picture(tb[i].file, f, &r, tb, ntb);
			tb_result_free(&r);
			film_free(f);
		}
		fbox = nimg ? (double)falses / nimg : 0;
		printf("dr/tb-boxes: %d of %d truth boxes hit (IoU >= 0.3),"
		    " %.2f false boxes per image, %d films\n", hits, ntb, fbox,
		    nimg);
		printf("  of them effusion and cavity boxes: %d reported, %d"
		    " truth boxes hit, %d false (%.2f per image)\n", kboxes,
		    khits, kfalse, nimg ? (double)kfalse / nimg : 0);
		if (hits * 3 < ntb || fbox > 3)
			fail = 1;
	} else
		printf("dr/tb-boxes: %s absent: not measured\n", path);
	printf("the view from the image alone (all are PA): %d of %d frontal,"
	    " %d lateral, the rest undecided\n", img_frontal, img_seen,
	    img_lateral);
	if (img_lateral > 0)
		fail = 1;
	/* A film of 3000 x 3000 pixels (the phantom's chest at 0.14 mm):
	 * the display transform, the check and the detection. */
	{
		struct film_tags t;
		float		*v;
		double		 t0, big;
		int		 X = 3000, ii, jj;
		char		 err[256];

		if ((v = malloc(sizeof(float) * X * X)) == NULL)
			return 1;
		for (jj = 0; jj < X; jj++)
			for (ii = 0; ii < X; ii++)
				v[(size_t)jj * X + ii] = (float)phantom_film_chest(
				    (ii - X / 2) * 0.14, (jj - X / 2) * 0.14);
		memset(&t, 0, sizeof(t));
		t.modality = "DX";
		t.photometric = "MONOCHROME2";
		t.window_center = 1400;
		t.window_width = 2800;
		t.view_position = "PA";
		t.body_part = "CHEST";
		t0 = fe_now();
		if (film_from_values(v, X, X, &t, &f, err, sizeof(err)) == -1 ||
		    tb_film_check(f, err, sizeof(err)) != 0 ||
		    tb_detect(f, &r, err, sizeof(err)) != 0) {
			printf("3000x3000 film: %s\n", err);
			fail = 1;
		} else {
			big = fe_now() - t0;
			printf("a 3000x3000 film (phantom): %.3f s (display"
			    " transform, check, detection; decoding apart)\n",
			    big);
			if (big > 2)
				fail = 1;
			tb_result_free(&r);
			film_free(f);
		}
		free(v);
	}
	printf("seconds per film (check and detection, load apart): mean"
	    " %.3f, max %.3f, %d films\n", nfilms ? tsecs / nfilms : 0,
	    maxsecs, nfilms);
	if (maxsecs > 2)
		fail = 1;
	if (fail) {
		printf("[  FAILED  ] tbeval: the guard fails (above)\n"
		    "[  FAILED  ] 1 test(s).\n");
		return 1;
	}
	printf("[  PASSED  ] 1 test(s).\n");
	return 0;
}
