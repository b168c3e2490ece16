/*
 * model.h - the domain's enumerations and their codes and Chinese names.
 *
 * The database stores the English codes; pages show the Chinese names.
 * Every table is indexed by its enum, which ends in a __MAX sentinel.
 */
#ifndef ZY_MODEL_H
#define ZY_MODEL_H

#include <stddef.h>

/* Roles of the manual; a user may hold several (a bit set). */
enum role {
	ROLE_APPLICANT,		/* 邀请方人员 */
	ROLE_DOCTOR,		/* 受邀方人员 */
	ROLE_STATS,		/* 统计 */
	ROLE_ADMIN,		/* 管理员 */
	ROLE__MAX
};
#define ROLE_BIT(r)	(1u << (r))
#define ROLES_ALL	((1u << ROLE__MAX) - 1)

/* Doctors' title levels, in rising order. */
enum title {
	TITLE_NONE,		/* not a doctor */
	TITLE_RESIDENT,		/* 住院医师 */
	TITLE_ATTENDING,	/* 主治医师 */
	TITLE_ASSOC_CHIEF,	/* 副主任医师 */
	TITLE_CHIEF,		/* 主任医师 */
	TITLE__MAX
};

/* Institution levels. */
enum inst_level {
	LEVEL_PROVINCE,		/* 省级 */
	LEVEL_CITY,		/* 市级 */
	LEVEL_COUNTY,		/* 县级 */
	LEVEL_PRIMARY,		/* 基层 */
	LEVEL__MAX
};

/* Kinds of alliance. */
enum alliance_kind {
	ALLIANCE_MEDICAL,	/* 医联体 */
	ALLIANCE_COUNTY,	/* 医共体 */
	ALLIANCE__MAX
};

struct model_name {
	const char	*code;	/* as stored in the database */
	const char	*zh;	/* as shown to users */
};

extern const struct model_name role_names[ROLE__MAX];
extern const struct model_name title_names[TITLE__MAX];
extern const struct model_name level_names[LEVEL__MAX];
extern const struct model_name alliance_kind_names[ALLIANCE__MAX];

/* Look up a code in a table of n names.  Returns the index or -1. */
int		 model_lookup(const struct model_name *, int n, const char *code);

/* Parse a PostgreSQL text[] literal of role codes ("{applicant,doctor}")
 * into a bit set.  Unknown codes are ignored. */
unsigned int	 model_roles_parse(const char *literal);

/* The Chinese name of a code in a table of n names, or the code itself
 * when the table lacks it. */
const char	*model_zh(const struct model_name *, int n, const char *code);

/* Whether s is NULL, empty or only white space: 1 or 0. */
int		 text_blank(const char *s);

/* Write the Chinese names of a role set, joined by "、", into buf.
 * Returns buf. */
char		*model_roles_zh(unsigned int roles, char *buf, size_t size);

#endif /* ZY_MODEL_H */
