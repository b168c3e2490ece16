/*
 * mat3.h - small 3-D linear algebra the image readers share.
 */
#ifndef ZY_MAT3_H
#define ZY_MAT3_H

/*
 * The eigenvalues of the symmetric 3x3 matrix h = (a11 a22 a33 a12 a13
 * a23) into e, in ascending order, by the trigonometric solution of the
 * characteristic cubic (Smith, 1961).  A matrix with (nearly) equal
 * eigenvalues gives its mean three times.
 */
void	 mat3_sym_eigen(const double h[6], double e[3]);

#endif /* ZY_MAT3_H */
