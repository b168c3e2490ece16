/*
 * filmeval.h - what the film readers' evaluations (tbeval, limbeval)
 * share: truth boxes read from a set's boxes.csv, the overlap of a
 * reported box with one, a clock, a seeded generator for the bootstrap,
 * and the pictures of -p (the film with an outline and boxes drawn).
 */
#ifndef ZY_FILMEVAL_H
#define ZY_FILMEVAL_H

#include <stddef.h>

struct film;

/* A truth box of a set's boxes.csv, in the film's pixels. */
struct fe_box {
	char	 file[32];
	double	 x0, y0, x1, y1;
};

/* Monotonic seconds. */
double	 fe_now(void);

/* A uniform integer in 0..n-1 from a xorshift generator of fixed seed
 * (the bootstraps print the same intervals on every run). */
int	 fe_rnd(int n);

/* qsort() order of doubles, ascending. */
int	 fe_cmp_double(const void *a, const void *b);

/*
 * Read the boxes of path (file,class,x0,y0,x1,y1 after a header line)
 * into b, at most max; only those of class cls unless cls is NULL.
 * Returns how many, or -1 when the file cannot be opened.
 */
int	 fe_read_boxes(const char *path, const char *cls, struct fe_box *b,
	    int max);

/* IoU of the reported box x0..x1, y0..y1 (inclusive pixels) with b. */
double	 fe_iou(int x0, int y0, int x1, int y1, const struct fe_box *b);

/* Draw a box 3 pixels wide into g (w x h) in white, dashed if asked. */
void	 fe_draw_box(unsigned char *g, int w, int h, int x0, int y0, int x1,
	    int y1, int dashed);

/*
 * Draw the border of a working-scale mask (mw x mh, scale film pixels a
 * working pixel from the film's field) onto g, the film's size, in grey
 * value, or dotted black and white when value is negative.
 */
void	 fe_draw_outline(unsigned char *g, const struct film *f,
	    const unsigned char *mask, int mw, int mh, double scale,
	    int value);

/* Draw the truth boxes of film name dashed onto g, the film's size. */
void	 fe_draw_truth(unsigned char *g, const struct film *f,
	    const struct fe_box *tb, int ntb, const char *name);

/* Write g (w x h, grey) as a PNG to path; -1 when it cannot. */
int	 fe_write_png(const char *path, const unsigned char *g, int w, int h);

#endif /* ZY_FILMEVAL_H */
