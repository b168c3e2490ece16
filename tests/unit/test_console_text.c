/*
 * test_console_text.c - the console's UTF-8 text editing (admin/text.c).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "console.h"

/* Apply keys to a field the way the form does, through the cursor. */
static void
type(char *buf, size_t size, size_t *back, const int *keys, size_t n)
{
	size_t	 i, off, chars;

	for (i = 0; i < n; i++) {
		chars = u8_chars(buf);
		off = str_offset_back(buf, *back);
		if (keys[i] == K_LEFT && *back < chars)
			(*back)++;
		else if (keys[i] == K_RIGHT && *back > 0)
			(*back)--;
		else if (keys[i] == K_HOME)
			*back = chars;
		else if (keys[i] == K_END)
			*back = 0;
		else if (keys[i] == K_BS)
			(void)str_delete_before(buf, off);
		else if (keys[i] == K_DEL) {
			if (str_delete_at(buf, off) && *back > 0)
				(*back)--;
		} else
			(void)str_insert_key(buf, size, off, keys[i]);
	}
}

static void
test_insert_and_move(void **state)
{
	char	 buf[32] = "";
	size_t	 back = 0;
	const int keys[] = { 'a', 'b', 'c', K_LEFT, K_LEFT, 'X', K_HOME, 'Y',
	    K_END, K_BS, K_HOME, K_DEL };

	(void)state;
	type(buf, sizeof(buf), &back, keys, sizeof(keys) / sizeof(keys[0]));
	assert_string_equal(buf, "aXb");
}

static void
test_chinese(void **state)
{
	char	 buf[32] = "";
	size_t	 back = 0;
	/* 张 U+5F20, 三 U+4E09, 丰 U+4E30: insert 三 between 张 and 丰. */
	const int keys[] = { 0x5f20, 0x4e30, K_LEFT, 0x4e09, K_END, K_LEFT,
	    K_DEL };

	(void)state;
	type(buf, sizeof(buf), &back, keys, sizeof(keys) / sizeof(keys[0]));
	assert_string_equal(buf, "张三");
	assert_int_equal(u8_chars("张三abc"), 5);
	assert_int_equal(str_offset_back("张三abc", 4), 3);
	assert_int_equal(str_offset_back("张三abc", 99), 0);
}

static void
test_bounds(void **state)
{
	char	 buf[5] = "abc";

	(void)state;
	/* Full: a 3-byte character does not fit, a 1-byte one does. */
	assert_int_equal(str_insert_key(buf, sizeof(buf), 1, 0x4e09), 0);
	assert_int_equal(str_insert_key(buf, sizeof(buf), 1, 'z'), 1);
	assert_string_equal(buf, "azbc");
	assert_int_equal(str_insert_key(buf, sizeof(buf), 0, 'q'), 0);
	/* Keys that are not characters are refused. */
	assert_int_equal(str_insert_key(buf, sizeof(buf), 0, K_F(2)), 0);
	assert_int_equal(str_insert_key(buf, sizeof(buf), 0, '\t'), 0);
	assert_int_equal(str_delete_before(buf, 0), 0);
	assert_int_equal(str_delete_at(buf, 4), 0);
	str_backspace(buf);
	assert_string_equal(buf, "azb");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_and_move),
		cmocka_unit_test(test_chinese),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests_name("console text", tests, NULL, NULL);
}
