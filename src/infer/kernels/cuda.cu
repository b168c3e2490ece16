/*
 * cuda.cu - the CUDA compute backend: the operations of compute.h on the
 * first CUDA device, with the same results as the CPU backend.
 *
 * Every operation copies its input to the device, runs there and copies
 * the result back.  Connected components propagate the lowest voxel
 * index of each component on the device (with pointer jumping) until
 * nothing changes; numbering and statistics are then one pass on the
 * host, shared with the CPU backend (compute_cc_finish()).
 */
#include "config.h"

#include <cuda_runtime.h>

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute.h"

#define THREADS	256

struct dims3 {
	int	 n[3];
};

static int
cuda_fail(struct compute *c, const char *what, cudaError_t e)
{
	(void)snprintf(c->error, sizeof(c->error), "%s: %s", what,
	    cudaGetErrorString(e));
	return -1;
}

static unsigned int
blocks_for(size_t n)
{
	return (unsigned int)((n + THREADS - 1) / THREADS);
}

__device__ static size_t
d_idx(struct dims3 d, int x, int y, int z)
{
	return ((size_t)z * (size_t)d.n[1] + (size_t)y) * (size_t)d.n[0] +
	    (size_t)x;
}

__device__ static void
d_xyz(struct dims3 d, size_t i, int *x, int *y, int *z)
{
	*x = (int)(i % (size_t)d.n[0]);
	*y = (int)(i / (size_t)d.n[0] % (size_t)d.n[1]);
	*z = (int)(i / ((size_t)d.n[0] * (size_t)d.n[1]));
}

__global__ static void
k_clamp(float *out, const float *in, size_t n, float lo, float hi)
{
	size_t	 i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		out[i] = in[i] < lo ? lo : in[i] > hi ? hi : in[i];
}

__global__ static void
k_window(float *out, const float *in, size_t n, float lo, float width)
{
	size_t	 i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	float	 v;

	if (i < n) {
		v = (in[i] - lo) / width;
		out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
	}
}

__global__ static void
k_threshold(uint8_t *mask, const float *in, size_t n, float lo, float hi)
{
	size_t	 i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		mask[i] = in[i] >= lo && in[i] <= hi;
}

__global__ static void
k_label_init(int32_t *lab, const uint8_t *mask, size_t n)
{
	size_t	 i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		lab[i] = mask[i] ? (int32_t)i : -1;
}

/* Take the lowest label among the neighbours; flag any change. */
__global__ static void
k_label_step(int32_t *lab, struct dims3 d, size_t n, int conn, int *changed)
{
	size_t	 i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	int32_t	 m, l;
	int	 x, y, z, dx, dy, dz, xx, yy, zz;

	if (i >= n || lab[i] < 0)
		return;
	d_xyz(d, i, &x, &y, &z);
	m = lab[i];
	for (dz = -1; dz <= 1; dz++)
		for (dy = -1; dy <= 1; dy++)
			for (dx = -1; dx <= 1; dx++) {
				if (conn == 6 &&
				    abs(dx) + abs(dy) + abs(dz) != 1)
					continue;
				xx = x + dx;
				yy = y + dy;
				zz = z + dz;
				if (xx < 0 || yy < 0 || zz < 0 ||
				    xx >= d.n[0] || yy >= d.n[1] ||
				    zz >= d.n[2])
					continue;
				l = lab[d_idx(d, xx, yy, zz)];
				if (l >= 0 && l < m)
					m = l;
			}
	/* Pointer jumping: the label of a label is as good and lower. */
	l = lab[m];
	if (l >= 0 && l < m)
		m = l;
	if (m < lab[i]) {
		atomicMin(&lab[i], m);
		*changed = 1;
	}
}

/* One line of a box: min (erode) or max (dilate) along axis a. */
__global__ static void
k_morph_line(uint8_t *out, const uint8_t *in, struct dims3 d, size_t n,
    int a, int erode, int r)
{
	size_t	 i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	long long stride;
	int	 p[3], k, q, v;

	if (i >= n)
		return;
	d_xyz(d, i, &p[0], &p[1], &p[2]);
	stride = a == 0 ? 1 : a == 1 ? d.n[0] : (long long)d.n[0] * d.n[1];
	v = erode;
	for (k = -r; k <= r && v == erode; k++) {
		q = p[a] + k;
		if (q < 0 || q >= d.n[a]) {
			if (erode)
				v = 0;
			continue;
		}
		if (in[(long long)i + k * stride] ? !erode : erode)
			v = !erode;
	}
	out[i] = (uint8_t)v;
}

__global__ static void
k_morph_cross1(uint8_t *out, const uint8_t *in, struct dims3 d, size_t n,
    int erode)
{
	size_t	 i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	int	 x, y, z, k, xx, yy, zz, v, nb;
	const int off[6][3] = { { -1, 0, 0 }, { 1, 0, 0 }, { 0, -1, 0 },
	    { 0, 1, 0 }, { 0, 0, -1 }, { 0, 0, 1 } };

	if (i >= n)
		return;
	d_xyz(d, i, &x, &y, &z);
	v = in[i] != 0;
	for (k = 0; k < 6 && v == erode; k++) {
		xx = x + off[k][0];
		yy = y + off[k][1];
		zz = z + off[k][2];
		nb = xx >= 0 && yy >= 0 && zz >= 0 && xx < d.n[0] &&
		    yy < d.n[1] && zz < d.n[2] && in[d_idx(d, xx, yy, zz)];
		if (erode && !nb)
			v = 0;
		else if (!erode && nb)
			v = 1;
	}
	out[i] = (uint8_t)v;
}

__global__ static void
k_binarise(uint8_t *m, size_t n)
{
	size_t	 i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		m[i] = m[i] != 0;
}

__global__ static void
k_gauss_axis(float *out, const float *in, struct dims3 d, size_t n, int a,
    const float *w, int r)
{
	size_t	 i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	int	 p[3], k, q, base;
	double	 s = 0;

	if (i >= n)
		return;
	d_xyz(d, i, &p[0], &p[1], &p[2]);
	base = p[a];
	for (k = -r; k <= r; k++) {
		q = base + k;
		q = q < 0 ? 0 : q >= d.n[a] ? d.n[a] - 1 : q;
		p[a] = q;
		s += (double)w[k + r] * in[d_idx(d, p[0], p[1], p[2])];
	}
	out[i] = (float)s;
}

__global__ static void
k_resample(float *out, struct dims3 od, size_t n, const float *in,
    struct dims3 d, double r0, double r1, double r2)
{
	size_t	 i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	int	 o[3], i0[3], i1[3], b;
	double	 f[3], p, ratio[3] = { r0, r1, r2 };

	if (i >= n)
		return;
	d_xyz(od, i, &o[0], &o[1], &o[2]);
	for (b = 0; b < 3; b++) {
		p = o[b] * ratio[b];
		i0[b] = (int)floor(p);
		if (i0[b] > d.n[b] - 2)
			i0[b] = d.n[b] - 2;
		if (i0[b] < 0)
			i0[b] = 0;
		i1[b] = d.n[b] > 1 ? i0[b] + 1 : 0;
		f[b] = d.n[b] > 1 ? p - i0[b] : 0;
	}
	out[i] = (float)(
	    (1 - f[2]) * ((1 - f[1]) * ((1 - f[0]) *
	    in[d_idx(d, i0[0], i0[1], i0[2])] + f[0] *
	    in[d_idx(d, i1[0], i0[1], i0[2])]) + f[1] * ((1 - f[0]) *
	    in[d_idx(d, i0[0], i1[1], i0[2])] + f[0] *
	    in[d_idx(d, i1[0], i1[1], i0[2])])) +
	    f[2] * ((1 - f[1]) * ((1 - f[0]) *
	    in[d_idx(d, i0[0], i0[1], i1[2])] + f[0] *
	    in[d_idx(d, i1[0], i0[1], i1[2])]) + f[1] * ((1 - f[0]) *
	    in[d_idx(d, i0[0], i1[1], i1[2])] + f[0] *
	    in[d_idx(d, i1[0], i1[1], i1[2])])));
}

static struct dims3
dims_of(const int dims[3])
{
	struct dims3	 d;

	d.n[0] = dims[0];
	d.n[1] = dims[1];
	d.n[2] = dims[2];
	return d;
}

static size_t
dims_count(const int dims[3])
{
	return (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
}

static void
cuda_close(struct compute *c)
{
	free(c);
}

/* Run an elementwise float kernel: which 0 clamp, 1 window. */
static int
cuda_elementwise(struct compute *c, int which, float *out, const float *in,
    size_t n, float a, float b)
{
	float		*d_in = NULL, *d_out = NULL;
	cudaError_t	 e;
	int		 rc = -1;

	if (n == 0)
		return 0;
	if ((e = cudaMalloc(&d_in, n * sizeof(float))) != cudaSuccess ||
	    (e = cudaMalloc(&d_out, n * sizeof(float))) != cudaSuccess ||
	    (e = cudaMemcpy(d_in, in, n * sizeof(float),
	    cudaMemcpyHostToDevice)) != cudaSuccess) {
		cuda_fail(c, "elementwise", e);
		goto fail;
	}
	if (which == 0)
		k_clamp<<<blocks_for(n), THREADS>>>(d_out, d_in, n, a, b);
	else
		k_window<<<blocks_for(n), THREADS>>>(d_out, d_in, n, a, b);
	if ((e = cudaGetLastError()) != cudaSuccess ||
	    (e = cudaMemcpy(out, d_out, n * sizeof(float),
	    cudaMemcpyDeviceToHost)) != cudaSuccess) {
		cuda_fail(c, "elementwise", e);
		goto fail;
	}
	rc = 0;
fail:
	cudaFree(d_in);
	cudaFree(d_out);
	return rc;
}

static int
cuda_clamp(struct compute *c, float *out, const float *in, size_t n,
    float lo, float hi)
{
	if (lo > hi) {
		(void)snprintf(c->error, sizeof(c->error),
		    "clamp: lower bound above upper bound");
		return -1;
	}
	return cuda_elementwise(c, 0, out, in, n, lo, hi);
}

static int
cuda_window(struct compute *c, float *out, const float *in, size_t n,
    float center, float width)
{
	if (!(width > 0)) {
		(void)snprintf(c->error, sizeof(c->error),
		    "window: width must be positive");
		return -1;
	}
	return cuda_elementwise(c, 1, out, in, n, center - width / 2, width);
}

static int
cuda_threshold(struct compute *c, uint8_t *mask, const float *in, size_t n,
    float lo, float hi)
{
	float		*d_in = NULL;
	uint8_t		*d_m = NULL;
	cudaError_t	 e;
	int		 rc = -1;

	if (n == 0)
		return 0;
	if ((e = cudaMalloc(&d_in, n * sizeof(float))) != cudaSuccess ||
	    (e = cudaMalloc(&d_m, n)) != cudaSuccess ||
	    (e = cudaMemcpy(d_in, in, n * sizeof(float),
	    cudaMemcpyHostToDevice)) != cudaSuccess)
		goto fail;
	k_threshold<<<blocks_for(n), THREADS>>>(d_m, d_in, n, lo, hi);
	if ((e = cudaGetLastError()) != cudaSuccess ||
	    (e = cudaMemcpy(mask, d_m, n, cudaMemcpyDeviceToHost)) !=
	    cudaSuccess)
		goto fail;
	rc = 0;
fail:
	if (rc == -1)
		cuda_fail(c, "threshold", e);
	cudaFree(d_in);
	cudaFree(d_m);
	return rc;
}

static int
cuda_label(struct compute *c, int32_t *labels, const uint8_t *mask,
    const float *val, const int dims[3], int conn, struct cc_stats **stats,
    size_t *n)
{
	uint8_t		*d_m = NULL;
	int32_t		*d_l = NULL;
	int		*d_changed = NULL, changed;
	size_t		 total, i;
	cudaError_t	 e = cudaSuccess;
	int		 rc = -1;

	*stats = NULL;
	*n = 0;
	if (dims[0] <= 0 || dims[1] <= 0 || dims[2] <= 0 ||
	    (conn != 6 && conn != 26)) {
		(void)snprintf(c->error, sizeof(c->error),
		    "label: bad dimensions or connectivity");
		return -1;
	}
	total = dims_count(dims);
	if (total > INT32_MAX) {
		(void)snprintf(c->error, sizeof(c->error),
		    "label: volume too large");
		return -1;
	}
	if ((e = cudaMalloc(&d_m, total)) != cudaSuccess ||
	    (e = cudaMalloc(&d_l, total * sizeof(int32_t))) != cudaSuccess ||
	    (e = cudaMalloc(&d_changed, sizeof(int))) != cudaSuccess ||
	    (e = cudaMemcpy(d_m, mask, total, cudaMemcpyHostToDevice)) !=
	    cudaSuccess)
		goto fail;
	k_label_init<<<blocks_for(total), THREADS>>>(d_l, d_m, total);
	do {
		changed = 0;
		if ((e = cudaMemcpy(d_changed, &changed, sizeof(int),
		    cudaMemcpyHostToDevice)) != cudaSuccess)
			goto fail;
		k_label_step<<<blocks_for(total), THREADS>>>(d_l,
		    dims_of(dims), total, conn, d_changed);
		if ((e = cudaGetLastError()) != cudaSuccess ||
		    (e = cudaMemcpy(&changed, d_changed, sizeof(int),
		    cudaMemcpyDeviceToHost)) != cudaSuccess)
			goto fail;
	} while (changed);
	if ((e = cudaMemcpy(labels, d_l, total * sizeof(int32_t),
	    cudaMemcpyDeviceToHost)) != cudaSuccess)
		goto fail;
	for (i = 0; i < total; i++)
		labels[i] = labels[i] < 0 ? 0 : labels[i] + 1;
	if (compute_cc_finish(labels, val, dims, stats, n) == -1) {
		(void)snprintf(c->error, sizeof(c->error),
		    "label: out of memory");
		e = cudaSuccess;
		rc = -2;
		goto fail;
	}
	rc = 0;
fail:
	if (rc == -1)
		cuda_fail(c, "label", e);
	cudaFree(d_m);
	cudaFree(d_l);
	cudaFree(d_changed);
	return rc == 0 ? 0 : -1;
}

static int
cuda_morph(struct compute *c, uint8_t *out, const uint8_t *in,
    const int dims[3], enum morph_op op, enum morph_shape shape, int r)
{
	uint8_t		*a = NULL, *b = NULL, *t;
	size_t		 total;
	cudaError_t	 e = cudaSuccess;
	int		 k, erode = op == MORPH_ERODE, rc = -1;

	if (dims[0] <= 0 || dims[1] <= 0 || dims[2] <= 0 || r < 0 ||
	    op >= MORPH_OP__MAX || shape >= MORPH_SHAPE__MAX) {
		(void)snprintf(c->error, sizeof(c->error),
		    "morph: bad arguments");
		return -1;
	}
	total = dims_count(dims);
	if ((e = cudaMalloc(&a, total)) != cudaSuccess ||
	    (e = cudaMalloc(&b, total)) != cudaSuccess ||
	    (e = cudaMemcpy(a, in, total, cudaMemcpyHostToDevice)) !=
	    cudaSuccess)
		goto fail;
	k_binarise<<<blocks_for(total), THREADS>>>(a, total);
	for (k = 0; shape == MORPH_BOX ? k < 3 && r > 0 : k < r; k++) {
		if (shape == MORPH_BOX)
			k_morph_line<<<blocks_for(total), THREADS>>>(b, a,
			    dims_of(dims), total, k, erode, r);
		else
			k_morph_cross1<<<blocks_for(total), THREADS>>>(b, a,
			    dims_of(dims), total, erode);
		t = a;
		a = b;
		b = t;
	}
	if ((e = cudaGetLastError()) != cudaSuccess ||
	    (e = cudaMemcpy(out, a, total, cudaMemcpyDeviceToHost)) !=
	    cudaSuccess)
		goto fail;
	rc = 0;
fail:
	if (rc == -1)
		cuda_fail(c, "morph", e);
	cudaFree(a);
	cudaFree(b);
	return rc;
}

static int
cuda_gauss(struct compute *c, float *out, const float *in, const int dims[3],
    const double spacing[3], const double sigma_mm[3])
{
	float		*a = NULL, *b = NULL, *t, *d_w = NULL, *w = NULL;
	double		 sigma, sum;
	size_t		 total;
	cudaError_t	 e = cudaSuccess;
	int		 ax, k, r, rc = -1;

	for (ax = 0; ax < 3; ax++)
		if (dims[ax] <= 0 || !(spacing[ax] > 0) ||
		    !(sigma_mm[ax] >= 0)) {
			(void)snprintf(c->error, sizeof(c->error),
			    "gauss: bad dimensions, spacing or sigma");
			return -1;
		}
	total = dims_count(dims);
	if ((e = cudaMalloc(&a, total * sizeof(float))) != cudaSuccess ||
	    (e = cudaMalloc(&b, total * sizeof(float))) != cudaSuccess ||
	    (e = cudaMemcpy(a, in, total * sizeof(float),
	    cudaMemcpyHostToDevice)) != cudaSuccess)
		goto fail;
	for (ax = 0; ax < 3; ax++) {
		if (sigma_mm[ax] == 0)
			continue;
		/* The same kernel as the CPU backend's gauss_kernel(). */
		sigma = sigma_mm[ax] / spacing[ax];
		r = (int)ceil(3 * sigma);
		if (r < 1)
			r = 1;
		if ((w = (float *)calloc((size_t)(2 * r + 1),
		    sizeof(*w))) == NULL) {
			e = cudaErrorMemoryAllocation;
			goto fail;
		}
		for (sum = 0, k = -r; k <= r; k++)
			sum += exp(-(double)k * k / (2 * sigma * sigma));
		for (k = -r; k <= r; k++)
			w[k + r] = (float)(exp(-(double)k * k /
			    (2 * sigma * sigma)) / sum);
		if ((e = cudaMalloc(&d_w, (size_t)(2 * r + 1) *
		    sizeof(float))) != cudaSuccess ||
		    (e = cudaMemcpy(d_w, w, (size_t)(2 * r + 1) *
		    sizeof(float), cudaMemcpyHostToDevice)) != cudaSuccess)
			goto fail;
		k_gauss_axis<<<blocks_for(total), THREADS>>>(b, a,
		    dims_of(dims), total, ax, d_w, r);
		if ((e = cudaGetLastError()) != cudaSuccess ||
		    (e = cudaDeviceSynchronize()) != cudaSuccess)
			goto fail;
		cudaFree(d_w);
		d_w = NULL;
		free(w);
		w = NULL;
		t = a;
		a = b;
		b = t;
	}
	if ((e = cudaMemcpy(out, a, total * sizeof(float),
	    cudaMemcpyDeviceToHost)) != cudaSuccess)
		goto fail;
	rc = 0;
fail:
	if (rc == -1)
		cuda_fail(c, "gauss", e);
	free(w);
	cudaFree(d_w);
	cudaFree(a);
	cudaFree(b);
	return rc;
}

static int
cuda_resample(struct compute *c, float *out, const int odims[3],
    const float *in, const int dims[3], const double spacing[3],
    const double ospacing[3])
{
	float		*d_in = NULL, *d_out = NULL;
	size_t		 total, ototal;
	cudaError_t	 e = cudaSuccess;
	int		 ax, rc = -1;

	for (ax = 0; ax < 3; ax++)
		if (dims[ax] <= 0 || odims[ax] <= 0 || !(spacing[ax] > 0) ||
		    !(ospacing[ax] > 0)) {
			(void)snprintf(c->error, sizeof(c->error),
			    "resample: bad dimensions or spacing");
			return -1;
		}
	total = dims_count(dims);
	ototal = dims_count(odims);
	if ((e = cudaMalloc(&d_in, total * sizeof(float))) != cudaSuccess ||
	    (e = cudaMalloc(&d_out, ototal * sizeof(float))) != cudaSuccess ||
	    (e = cudaMemcpy(d_in, in, total * sizeof(float),
	    cudaMemcpyHostToDevice)) != cudaSuccess)
		goto fail;
	k_resample<<<blocks_for(ototal), THREADS>>>(d_out, dims_of(odims),
	    ototal, d_in, dims_of(dims), ospacing[0] / spacing[0],
	    ospacing[1] / spacing[1], ospacing[2] / spacing[2]);
	if ((e = cudaGetLastError()) != cudaSuccess ||
	    (e = cudaMemcpy(out, d_out, ototal * sizeof(float),
	    cudaMemcpyDeviceToHost)) != cudaSuccess)
		goto fail;
	rc = 0;
fail:
	if (rc == -1)
		cuda_fail(c, "resample", e);
	cudaFree(d_in);
	cudaFree(d_out);
	return rc;
}

static const struct compute_ops cuda_ops = {
	cuda_close,
	cuda_clamp,
	cuda_window,
	cuda_threshold,
	cuda_label,
	cuda_morph,
	cuda_gauss,
	cuda_resample,
};

/*
 * The number of CUDA devices, 0 when there is none or no driver.
 */
extern "C" int
compute_cuda_devices(void)
{
	int	 n = 0;

	if (cudaGetDeviceCount(&n) != cudaSuccess)
		return 0;
	return n;
}

/*
 * Open the CUDA backend on device 0.  Returns NULL with a reason in err
 * when there is no device or it cannot be used.
 */
extern "C" struct compute *
compute_cuda_open(char *err, size_t errlen)
{
	struct compute		*c;
	struct cudaDeviceProp	 p;
	cudaError_t		 e;
	int			 n = 0;

	if ((e = cudaGetDeviceCount(&n)) != cudaSuccess || n == 0) {
		if (err != NULL && errlen > 0)
			(void)snprintf(err, errlen, "no CUDA device: %s",
			    e != cudaSuccess ? cudaGetErrorString(e) :
			    "none found");
		return NULL;
	}
	if ((e = cudaSetDevice(0)) != cudaSuccess ||
	    (e = cudaGetDeviceProperties(&p, 0)) != cudaSuccess) {
		if (err != NULL && errlen > 0)
			(void)snprintf(err, errlen, "CUDA device 0: %s",
			    cudaGetErrorString(e));
		return NULL;
	}
	if ((c = (struct compute *)calloc(1, sizeof(*c))) == NULL) {
		if (err != NULL && errlen > 0)
			(void)snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->ops = &cuda_ops;
	c->kind = COMPUTE_CUDA;
	(void)snprintf(c->device, sizeof(c->device),
	    "CUDA device 0 of %d: %.64s, %zu MiB", n, p.name,
	    (size_t)(p.totalGlobalMem >> 20));
	return c;
}
