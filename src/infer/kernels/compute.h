/*
 * compute.h - the compute backend of the AI readers.
 *
 * The heavy passes of a reader run through one of two implementations of
 * the same operations: the CPU one (cpu.c, OpenMP when the compiler has
 * it), always built, and the CUDA one (cuda.cu), built when configure
 * finds nvcc.  Both must give the same answers; the CPU one is the
 * reference the unit tests check against analytic results.
 *
 * All buffers are the caller's, in host memory, volumes x fastest:
 * v[(z * ny + y) * nx + x], as struct series_volume keeps them.  A
 * backend copies to and from its device itself.  Operations return 0, or
 * -1 with a reason left for compute_error(); none of them logs.
 */
#ifndef ZY_COMPUTE_H
#define ZY_COMPUTE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum compute_kind {
	COMPUTE_CPU,
	COMPUTE_CUDA,
	COMPUTE__MAX
};

/* "cpu", "cuda", indexed by enum compute_kind. */
extern const char *const compute_kind_names[COMPUTE__MAX];

enum morph_op {
	MORPH_ERODE,
	MORPH_DILATE,
	MORPH_OP__MAX
};

/*
 * Structuring elements of radius r.  The cross is the r-fold repetition
 * of the 6-neighbourhood, the voxels with |dx| + |dy| + |dz| <= r; the box
 * is the (2r + 1)^3 cube.  Voxels outside the volume are background.
 */
enum morph_shape {
	MORPH_CROSS,
	MORPH_BOX,
	MORPH_SHAPE__MAX
};

/* One connected component: voxel count, bounding box (inclusive), the
 * largest and the sum of the values under it. */
struct cc_stats {
	long long	 count;
	int		 x0, y0, z0, x1, y1, z1;
	float		 max;
	double		 sum;
};

struct compute;

struct compute_ops {
	void	(*close)(struct compute *);
	int	(*clamp)(struct compute *, float *out, const float *in,
		    size_t n, float lo, float hi);
	int	(*window)(struct compute *, float *out, const float *in,
		    size_t n, float center, float width);
	int	(*threshold)(struct compute *, uint8_t *mask, const float *in,
		    size_t n, float lo, float hi);
	int	(*label)(struct compute *, int32_t *labels,
		    const uint8_t *mask, const float *val, const int dims[3],
		    int connectivity, struct cc_stats **stats, size_t *n);
	int	(*morph)(struct compute *, uint8_t *out, const uint8_t *in,
		    const int dims[3], enum morph_op, enum morph_shape, int r);
	int	(*gauss)(struct compute *, float *out, const float *in,
		    const int dims[3], const double spacing[3],
		    const double sigma_mm[3]);
	int	(*resample)(struct compute *, float *out, const int odims[3],
		    const float *in, const int dims[3], const double spacing[3],
		    const double ospacing[3]);
};

struct compute {
	const struct compute_ops *ops;
	enum compute_kind	 kind;
	char			 device[128];	/* "CPU, 8 OpenMP threads" */
	char			 error[256];	/* of the last failure */
	void			*priv;		/* the backend's */
};

/*
 * Open a backend by name: "cpu", "cuda", or "auto", which takes CUDA
 * only when it is built and a device is present (cudaGetDeviceCount() >
 * 0), else the CPU.  Logs the choice.  Returns NULL with a reason in err
 * when "cuda" is asked for and cannot be had, or the name is unknown.
 * Close with compute_close().
 */
struct compute	*compute_open(const char *which, char *err, size_t errlen);

/* Release a backend and its device memory; NULL is allowed. */
void		 compute_close(struct compute *);

/* The reason of the last failed operation (static to c). */
const char	*compute_error(const struct compute *);

/* out[i] = in[i] limited to lo..hi (HU clamping).  out may be in. */
int		 compute_clamp(struct compute *, float *out, const float *in,
		    size_t n, float lo, float hi);

/* Display windowing: out[i] = (in[i] - (center - width / 2)) / width,
 * limited to 0..1.  width must be > 0.  out may be in. */
int		 compute_window(struct compute *, float *out, const float *in,
		    size_t n, float center, float width);

/* mask[i] = 1 where lo <= in[i] <= hi, else 0. */
int		 compute_threshold(struct compute *, uint8_t *mask,
		    const float *in, size_t n, float lo, float hi);

/*
 * Label the 3-D connected components of mask (nonzero voxels) with
 * connectivity 6 (faces) or 26 (faces, edges and corners).  labels gets
 * 0 for background and 1..n for the components, numbered in the order of
 * their first voxel in memory order.  *stats gets n entries (index k for
 * label k + 1; free() it; NULL when n is 0), with max and sum taken from
 * val, or 0 when val is NULL.
 */
int		 compute_label(struct compute *, int32_t *labels,
		    const uint8_t *mask, const float *val, const int dims[3],
		    int connectivity, struct cc_stats **stats, size_t *n);

/* Binary erosion or dilation of in (nonzero is foreground) into out (0
 * or 1) with a cross or box of radius r >= 0.  out must not be in. */
int		 compute_morph(struct compute *, uint8_t *out, const uint8_t *in,
		    const int dims[3], enum morph_op, enum morph_shape, int r);

/*
 * Separable Gaussian filter with a standard deviation per axis in mm,
 * turned into voxels with spacing.  Each kernel is sampled out to three
 * standard deviations and normalised to sum 1; outside the volume the
 * edge voxel repeats.  A sigma of 0 leaves that axis alone.  out may not
 * be in.
 */
int		 compute_gauss(struct compute *, float *out, const float *in,
		    const int dims[3], const double spacing[3],
		    const double sigma_mm[3]);

/* The dimensions of a volume of dims voxels at spacing resampled to
 * ospacing: floor((n - 1) * spacing / ospacing) + 1 per axis, so that the
 * first voxels coincide and the last one stays inside. */
void		 compute_resample_dims(const int dims[3],
		    const double spacing[3], const double ospacing[3],
		    int odims[3]);

/* Trilinear resampling of in to ospacing into out, of the odims given by
 * compute_resample_dims(); output voxel i lies at i * ospacing mm from
 * the first voxel. */
int		 compute_resample(struct compute *, float *out,
		    const int odims[3], const float *in, const int dims[3],
		    const double spacing[3], const double ospacing[3]);

/* The backends.  compute_open() is the way in; these are for it and for
 * the tests that compare the two. */
struct compute	*compute_cpu_open(void);
#ifdef HAVE_CUDA
struct compute	*compute_cuda_open(char *err, size_t errlen);
int		 compute_cuda_devices(void);
#endif

/* Number the components of labels[] (root indices + 1 of an equivalence,
 * 0 for background) 1..n in memory order and gather their statistics;
 * shared by the backends.  Returns 0 or -1 (out of memory). */
int		 compute_cc_finish(int32_t *labels, const float *val,
		    const int dims[3], struct cc_stats **stats, size_t *n);

#ifdef __cplusplus
}
#endif

#endif /* ZY_COMPUTE_H */
