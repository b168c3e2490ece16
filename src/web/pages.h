/*
 * pages.h - the page table and the handlers of zhiying-web.
 */
#ifndef ZY_PAGES_H
#define ZY_PAGES_H

#include "http.h"
#include "tmpl.h"

/* Access: which roles may open a page (ROLE_BIT set); PUBLIC pages need no
 * login at all. */
#define ACCESS_PUBLIC	0u
#define ACCESS_ANY	ROLES_ALL

struct page_def {
	const char	*path;
	unsigned int	 roles;		/* ACCESS_PUBLIC or ROLE_BIT() set */
	unsigned int	 methods;	/* bit set of enum method */
	const char	*title;		/* Chinese page title; NULL: none */
	int		 nav;		/* shown in the navigation */
	void		(*handler)(struct req *);
};

extern const struct page_def pages[PAGE__MAX];

/* Serve one parsed request: route, authenticate, authorise, check CSRF,
 * dispatch.  Always sends a complete response. */
void		 router_dispatch(struct req *);

/* A dictionary preloaded with what every page shows: site name, title,
 * the user, the navigation for the user's roles and the CSRF token. */
struct tdict	*page_dict(struct req *);

/* Render a template as a complete response.  Sends 500 on failure. */
void		 page_render(struct req *, int status, const char *tmpl,
		    struct tdict *);

/* Render the error page with a Chinese message. */
void		 page_error(struct req *, int status, const char *message);

/* The workflow actor of the logged-in user. */
struct wf_actor;
void		 page_actor(const struct req *, struct wf_actor *);

/* Handlers. */
void		 page_home(struct req *);
void		 page_login(struct req *);
void		 page_logout(struct req *);
void		 page_list(struct req *);
void		 page_admin_users(struct req *);
void		 page_health(struct req *);
/* applicant pages: apply.c, upload.c */
/* list pages: lists.c */
/* report pages: report.c */

#endif /* ZY_PAGES_H */
