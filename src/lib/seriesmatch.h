/*
 * seriesmatch.h - match an indexed series against the AI readers and
 * queue a job for every reader it fits.
 *
 * Run when a sender has finished (an association released, an upload
 * done).  The result is kept per series and reader with the Chinese
 * reason of a misfit, and the series carries a one-sentence summary when
 * it fits no reader, for the application page.  Queued jobs wake the
 * inference daemons through NOTIFY ai_jobs.  A series that grows later is
 * matched again; a job whose series grew is queued again.
 */
#ifndef ZY_SERIESMATCH_H
#define ZY_SERIESMATCH_H

#include <libpq-fe.h>

/* Match one series (by id) and queue its jobs in one transaction with its
 * audit row.  Returns the number of readers it fits (0..7), or -1 on
 * database trouble (logged). */
int	 seriesmatch_run(PGconn *, long long series_id);

/* The spacing between slices measured from the instances' positions
 * along the slice normal (median of neighbour distances), in mm; NAN when
 * fewer than two positions or no orientation are known.  ipp holds n
 * positions (x, y, z each), iop the orientation (six cosines). */
double	 seriesmatch_spacing(const double *ipp, int n, const double *iop);

#endif /* ZY_SERIESMATCH_H */
