/*
 * test_queue.c - the patient's age as the inference daemon gives it to
 * the readers (queue.h): from two dates, from a DICOM Age String and
 * from what an applicant writes; how long the idle daemon waits.
 */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "queue.h"

static void
test_between(void **state)
{
	(void)state;
	/* Whole years on the birthday, not a day before. */
	assert_true(queue_age_between("19800302", "20250302") == 45.0);
	assert_true(queue_age_between("1980-03-02", "2025-03-01") < 45.0);
	assert_true(floor(queue_age_between("19800302", "20250301")) == 44.0);
	/* Half way from one birthday to the next (2025-01-01 to
	 * 2026-01-01 is 365 days; 2025-07-02 is day 182). */
	assert_float_equal(queue_age_between("1970-01-01", "2025-07-02"),
	    55.0 + 182.0 / 365.0, 1e-12);
	/* Either form, blanks around. */
	assert_float_equal(queue_age_between(" 2000-02-15", "20100215 "),
	    10.0, 0);
	/* Born on Feb 29: the birthday of a common year is Mar 1. */
	assert_true(queue_age_between("20000229", "20010228") < 1.0);
	assert_true(queue_age_between("20000229", "20010301") == 1.0);
	assert_true(queue_age_between("20000229", "20040229") == 4.0);
	/* The day of birth. */
	assert_true(queue_age_between("20240101", "20240101") == 0.0);
}

static void
test_between_bad(void **state)
{
	(void)state;
	assert_true(isnan(queue_age_between("", "20250101")));
	assert_true(isnan(queue_age_between("19800101", "")));
	assert_true(isnan(queue_age_between("20250102", "20250101")));
	assert_true(isnan(queue_age_between("19800230", "20250101")));
	assert_true(isnan(queue_age_between("19810229", "20250101")));
	assert_true(isnan(queue_age_between("19001301", "20250101")));
	assert_true(isnan(queue_age_between("1980-1-01", "20250101")));
	assert_true(isnan(queue_age_between("1980x101", "20250101")));
	assert_true(isnan(queue_age_between("18500101", "20250101")));
	assert_true(isnan(queue_age_between(NULL, "20250101")));
}

static void
test_text(void **state)
{
	(void)state;
	/* DICOM Age Strings. */
	assert_float_equal(queue_age_text("045Y"), 45.0, 0);
	assert_float_equal(queue_age_text("006M"), 0.5, 1e-12);
	assert_float_equal(queue_age_text("003W"), 21 / 365.2425, 1e-12);
	assert_float_equal(queue_age_text("010D"), 10 / 365.2425, 1e-12);
	assert_float_equal(queue_age_text("000Y"), 0.0, 0);
	/* What an applicant writes. */
	assert_float_equal(queue_age_text("58"), 58.0, 0);
	assert_float_equal(queue_age_text("58岁"), 58.0, 0);
	assert_float_equal(queue_age_text(" 58 岁 "), 58.0, 0);
	assert_float_equal(queue_age_text("3个月"), 0.25, 1e-12);
	assert_float_equal(queue_age_text("2周"), 14 / 365.2425, 1e-12);
	assert_float_equal(queue_age_text("10天"), 10 / 365.2425, 1e-12);
}

static void
test_text_bad(void **state)
{
	(void)state;
	assert_true(isnan(queue_age_text("")));
	assert_true(isnan(queue_age_text("岁")));
	assert_true(isnan(queue_age_text("Y")));
	assert_true(isnan(queue_age_text("58 years")));
	assert_true(isnan(queue_age_text("1岁3个月")));
	assert_true(isnan(queue_age_text("-5")));
	assert_true(isnan(queue_age_text("12345Y")));
	assert_true(isnan(queue_age_text("151")));
	assert_true(isnan(queue_age_text(NULL)));
}

static void
test_idle_wait(void **state)
{
	(void)state;
	/* Nothing queued or running: the poll interval (NOTIFY wakes it
	 * sooner), not a claim 20 times a second. */
	assert_float_equal(queue_idle_wait(0, -1, 5), 5, 0);
	/* Trouble: the poll interval too. */
	assert_float_equal(queue_idle_wait(-1, -1, 5), 5, 0);
	assert_float_equal(queue_idle_wait(-1, 0, 5), 5, 0);
	/* Due now but not claimable (another worker's, a lease to take
	 * back): a second. */
	assert_float_equal(queue_idle_wait(0, 0, 5), 1, 0);
	/* Due later: just after it, never past the poll interval. */
	assert_float_equal(queue_idle_wait(0, 2, 5), 2.05, 1e-9);
	assert_float_equal(queue_idle_wait(0, 0.01, 5), 0.06, 1e-9);
	assert_float_equal(queue_idle_wait(0, 60, 5), 5, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_between),
		cmocka_unit_test(test_between_bad),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_text_bad),
		cmocka_unit_test(test_idle_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
