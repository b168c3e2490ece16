/*
 * model.c - code and name tables of the domain's enumerations.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "model.h"

const struct model_name role_names[ROLE__MAX] = {
	{ "applicant",	"邀请方人员" },	/* ROLE_APPLICANT */
	{ "doctor",	"受邀方人员" },	/* ROLE_DOCTOR */
	{ "stats",	"统计" },	/* ROLE_STATS */
	{ "admin",	"管理员" },	/* ROLE_ADMIN */
};

const struct model_name title_names[TITLE__MAX] = {
	{ "",			"" },		/* TITLE_NONE */
	{ "resident",		"住院医师" },	/* TITLE_RESIDENT */
	{ "attending",		"主治医师" },	/* TITLE_ATTENDING */
	{ "associate_chief",	"副主任医师" },	/* TITLE_ASSOC_CHIEF */
	{ "chief",		"主任医师" },	/* TITLE_CHIEF */
};

const struct model_name level_names[LEVEL__MAX] = {
	{ "province",	"省级" },	/* LEVEL_PROVINCE */
	{ "city",	"市级" },	/* LEVEL_CITY */
	{ "county",	"县级" },	/* LEVEL_COUNTY */
	{ "primary",	"基层" },	/* LEVEL_PRIMARY */
};

const struct model_name alliance_kind_names[ALLIANCE__MAX] = {
	{ "medical_alliance",	"医联体" },	/* ALLIANCE_MEDICAL */
	{ "county_community",	"医共体" },	/* ALLIANCE_COUNTY */
};

int
model_lookup(const struct model_name *t, int n, const char *code)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (strcmp(t[i].code, code) == 0)
			return i;
	return -1;
}

unsigned int
model_roles_parse(const char *s)
{
	unsigned int	 bits = 0;
	char		 word[32];
	size_t		 n;
	int		 r;

	if (*s == '{')
		s++;
	while (*s != '\0' && *s != '}') {
		n = strcspn(s, ",}");
		if (n < sizeof(word)) {
			memcpy(word, s, n);
			word[n] = '\0';
			if ((r = model_lookup(role_names, ROLE__MAX, word)) >= 0)
				bits |= ROLE_BIT(r);
		}
		s += n;
		if (*s == ',')
			s++;
	}
	return bits;
}

char *
model_roles_zh(unsigned int roles, char *buf, size_t size)
{
	int	 k;

	buf[0] = '\0';
	for (k = 0; k < ROLE__MAX; k++) {
		if (!(roles & ROLE_BIT(k)))
			continue;
		if (buf[0] != '\0')
			(void)strncat(buf, "、", size - strlen(buf) - 1);
		(void)strncat(buf, role_names[k].zh, size - strlen(buf) - 1);
	}
	return buf;
}

const char *
model_zh(const struct model_name *t, int n, const char *code)
{
	int	 i;

	return (i = model_lookup(t, n, code)) >= 0 ? t[i].zh : code;
}

int
text_blank(const char *s)
{
	if (s == NULL)
		return 1;
	while (*s != '\0' && isspace((unsigned char)*s))
		s++;
	return *s == '\0';
}
