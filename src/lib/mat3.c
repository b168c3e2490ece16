/*
 * mat3.c - small 3-D linear algebra the image readers share.
 */
#include "config.h"

#include <math.h>

#include "mat3.h"

void
mat3_sym_eigen(const double h[6], double e[3])
{
	const double	 pi = 3.14159265358979323846;
	double		 p1, q, p2, p, b[6], r, phi, t;

	p1 = h[3] * h[3] + h[4] * h[4] + h[5] * h[5];
	q = (h[0] + h[1] + h[2]) / 3.0;
	p2 = (h[0] - q) * (h[0] - q) + (h[1] - q) * (h[1] - q) +
	    (h[2] - q) * (h[2] - q) + 2.0 * p1;
	if (p2 <= 1e-30) {
		e[0] = e[1] = e[2] = q;
		return;
	}
	p = sqrt(p2 / 6.0);
	b[0] = (h[0] - q) / p;
	b[1] = (h[1] - q) / p;
	b[2] = (h[2] - q) / p;
	b[3] = h[3] / p;
	b[4] = h[4] / p;
	b[5] = h[5] / p;
	/* det(B) / 2, B = (H - q I) / p, whose eigenvalues are 2 cos of
	 * phi, phi + 2 pi / 3 and phi + 4 pi / 3. */
	r = (b[0] * (b[1] * b[2] - b[5] * b[5]) -
	    b[3] * (b[3] * b[2] - b[5] * b[4]) +
	    b[4] * (b[3] * b[5] - b[1] * b[4])) / 2.0;
	phi = r <= -1.0 ? pi / 3.0 : r >= 1.0 ? 0.0 : acos(r) / 3.0;
	e[2] = q + 2.0 * p * cos(phi);
	e[0] = q + 2.0 * p * cos(phi + 2.0 * pi / 3.0);
	e[1] = 3.0 * q - e[0] - e[2];
	if (e[1] < e[0]) {
		t = e[0];
		e[0] = e[1];
		e[1] = t;
	}
	if (e[1] > e[2]) {
		t = e[1];
		e[1] = e[2];
		e[2] = t;
	}
}
