/*
 * audit.c - writing audit rows.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "db.h"

/* Only a well-formed address reaches the inet column; anything else is
 * kept out rather than failing the change it belongs to. */
const char *
audit_ip(const char *ip)
{
	unsigned char	 tmp[sizeof(struct in6_addr)];

	if (ip == NULL)
		return NULL;
	if (inet_pton(AF_INET, ip, tmp) == 1 ||
	    inet_pton(AF_INET6, ip, tmp) == 1)
		return ip;
	return NULL;
}

int
audit_write(PGconn *c, const struct audit *a)
{
	char	 actor[32], inst[32];

	(void)snprintf(actor, sizeof(actor), "%lld", a->actor_id);
	(void)snprintf(inst, sizeof(inst), "%lld", a->institution_id);
	return db_cmd(c,
	    "INSERT INTO audit_log (actor_id, actor_login, institution_id,"
	    " action, object_type, object_id, ip, channel, detail)"
	    " VALUES (NULLIF($1, '0')::bigint, $2, NULLIF($3, '0')::bigint,"
	    " $4, $5, $6, $7::inet, $8, $9::jsonb)", 9,
	    actor, a->actor_login ? a->actor_login : "", inst, a->action,
	    a->object_type ? a->object_type : "",
	    a->object_id ? a->object_id : "", audit_ip(a->ip),
	    a->channel ? a->channel : "web", a->detail ? a->detail : "{}");
}
