/*
 * ribfrac.h - the rib fracture reader (CT骨折辅助诊断).
 *
 * The ribs traced, numbered and searched by ribs.c on the vertebrae of the
 * shared anatomy; each fracture candidate a lesion with its type (移位骨折,
 * 无移位骨折, 屈曲骨折, 节段性骨折, 陈旧性骨折; RibFrac's classes, Jin et
 * al., 2020), its position (左第5肋腋段), key slice and box, and its own
 * sentences for the report; the ribs' centre lines and the ribs' and
 * vertebrae's labels stored for the overlays (ai_result.overlays).  See
 * ribfrac.c.
 */
#ifndef ZY_RIBFRAC_H
#define ZY_RIBFRAC_H

#include "reader.h"
#include "ribs.h"
#include "series.h"

/* The check: a chest CT of slices no thicker than 2 mm (the manual). */
enum reader_verdict ribfrac_check(const struct series_volume *, char *why,
		    size_t size);

/*
 * The traced ribs ri (with their fractures) of v, the vertebrae si (their
 * places for the overlays; may be NULL) into res: lesions in the
 * order of their position (right before left, by rib number, from the
 * back to the front), the text and the overlays.  Returns 0; 1 when the
 * cage cannot be read (no ribs, no numbers, the cage cut by the scan's
 * range), with the reason in Chinese in err; -1 out of memory.
 */
int		 ribfrac_to_ai(const struct series_volume *v,
		    const struct ribs_info *ri, const struct spine_info *si,
		    struct ai_result *res, char *err, size_t errlen);

/* The candidate's confidence, 0.5..0.9: its margin over the threshold
 * that made it (not a calibrated probability). */
double		 ribfrac_confidence(const struct rib_fracture *);

extern const struct reader_impl ribfrac_reader;

#endif /* ZY_RIBFRAC_H */
