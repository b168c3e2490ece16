/*
 * tmpl.h - HTML templates with escaping by default.
 *
 * Templates hold keys only; loops and conditions are decided by C code.
 * A set of templates is parsed once at program start into node trees and
 * then rendered any number of times, concurrently if the callers wish:
 * rendering never changes the set and allocates nothing.
 *
 * Syntax:
 *	{{key}}  {{key|text}}	value, HTML text escaped
 *	{{key|attr}}		value, attribute escaped (&#xHH; for all but
 *				alphanumerics and valid UTF-8)
 *	{{key|url}}		value, percent-encoded URL component
 *	{{#name}}...{{/name}}	section: a C callback renders the body 0..n
 *				times, each time with a scope of its choice
 *	{{^name}}...{{/name}}	inverted section: rendered once iff the
 *				section would be rendered zero times
 *	{{>other.html}}		include another template of the same set
 *	{{! comment }}		ignored
 * Keys and names are made of [A-Za-z0-9_.-]; blanks inside the braces are
 * allowed.  There is no way to output a value unescaped.  A missing key
 * renders as the empty string; a section nobody claims renders zero times.
 */
#ifndef ZY_TMPL_H
#define ZY_TMPL_H

#include <stddef.h>

struct arena;
struct buf;

/* Bounds enforced by the parser, the linker and the renderer. */
#define TMPL_MAX_SECTION_DEPTH	64	/* sections nested in one template */
#define TMPL_MAX_PARTIAL_DEPTH	32	/* partials included in partials */
#define TMPL_MAX_RENDER_DEPTH	256	/* sections and partials, together */

struct tmpl_set;	/* named, parsed templates */
struct tmpl_ctx;	/* one rendering in progress */

/* Output sink: write n bytes at p; return 0, or -1 to stop rendering. */
typedef int	(*tmpl_write_fn)(void *arg, const char *p, size_t n);

/*
 * A scope answers key and section lookups during rendering; lookups that
 * a scope cannot answer go to its parent.
 */
struct tmpl_scope {
	/* Value of key, or NULL when this scope lacks it (the parent is
	 * asked then).  NULL get: the scope has no keys.  The string must
	 * stay valid until the rendering ends. */
	const char	*(*get)(void *arg, const char *key);
	/* Section callback: call tmpl_emit() once per repetition and return
	 * 0, or -1 to abort rendering.  Return 1, without calling
	 * tmpl_emit(), for "not mine, ask the parent".  NULL: this scope
	 * has no sections. */
	int		 (*section)(void *arg, const char *name,
			    struct tmpl_ctx *);
	void		*arg;
	const struct tmpl_scope *parent;
};

/*
 * Create an empty template set.  Returns NULL when out of memory.  Free it
 * with tmpl_set_free().
 */
struct tmpl_set	*tmpl_set_new(void);

/*
 * Parse src (len bytes, NUL not needed) as the template called name and add
 * it to the set; src and name are copied.  Returns 0, or -1 with a message
 * such as "layout.html:12: unclosed section 'rows'" in err (errlen bytes,
 * err may be NULL) on a parse error, a duplicate name or out of memory.
 * The set must be (re)linked with tmpl_set_link() before rendering.
 */
int		 tmpl_set_add(struct tmpl_set *, const char *name,
		    const char *src, size_t len, char *err, size_t errlen);

/*
 * Resolve every {{>partial}} of the set to its template.  Returns 0, or -1
 * with a message in err when a partial is unknown, when partials include
 * each other in a cycle, or when they nest deeper than
 * TMPL_MAX_PARTIAL_DEPTH.
 */
int		 tmpl_set_link(struct tmpl_set *, char *err, size_t errlen);

/*
 * Load every regular file whose name ends in ".html" in dir (the template
 * name is the file name, e.g. "login.html"; files starting with a dot are
 * skipped) and link the set.  Returns a new set the caller frees with
 * tmpl_set_free(), or NULL with a message in err.
 */
struct tmpl_set	*tmpl_set_load(const char *dir, char *err, size_t errlen);

/* Free the set and all its templates.  NULL is allowed. */
void		 tmpl_set_free(struct tmpl_set *);

/*
 * The URL the pages give a static file: "/static/zhiying.css" becomes
 * "/static/zhiying.<fingerprint>.css" when the set was loaded from a
 * folder whose static/ holds zhiying.css; any other URL is returned as it
 * is.  In templates: {{@zhiying.css}} for a file named in the template,
 * {{key|static}} for a URL in a value (escaped as |attr).
 */
const char	*tmpl_asset_url(const struct tmpl_set *, const char *url);

/* Return 1 when the set holds a template called name, else 0. */
int		 tmpl_has(const struct tmpl_set *, const char *name);

/*
 * Render the template called name with scope (may be NULL: every key is
 * missing, every section empty), handing the output to write(warg, ...)
 * in pieces of sensible size.  Returns 0, or -1 when the template is
 * unknown, the set is not linked, write fails, a section callback returns
 * -1, or the rendering nests deeper than TMPL_MAX_RENDER_DEPTH.  Output
 * already written is not taken back on failure.
 */
int		 tmpl_render(const struct tmpl_set *, const char *name,
		    const struct tmpl_scope *, tmpl_write_fn, void *warg);

/*
 * For section callbacks: render the body of the current section once with
 * child as the innermost scope (NULL: the scope current at the section
 * tag).  child->parent should usually be tmpl_ctx_scope(ctx) so that keys
 * missing from child are found outside; child must stay valid until
 * tmpl_emit() returns.  Inside an inverted section this only counts.
 * Returns 0, or -1 when rendering failed (the callback should then return
 * -1; the rendering fails in any case).
 */
int		 tmpl_emit(struct tmpl_ctx *, const struct tmpl_scope *child);

/*
 * The innermost scope at the section tag being rendered (the scope whose
 * lookup reached the callback), or NULL when there is none.
 */
const struct tmpl_scope *tmpl_ctx_scope(const struct tmpl_ctx *);

/*
 * Escapers, usable directly by C code.  Each writes s (n bytes, NUL is
 * allowed) escaped to write(arg, ...) and returns 0, or -1 when write
 * failed.
 * tmpl_esc_html: & < > " ' become entities; valid UTF-8 passes unchanged;
 *   each invalid UTF-8 sequence and each NUL becomes U+FFFD.
 * tmpl_esc_attr: ASCII alphanumerics and valid multi-byte UTF-8 pass
 *   unchanged, invalid sequences and NUL become U+FFFD, every other byte
 *   becomes &#xHH;.
 * tmpl_esc_url: all but A-Z a-z 0-9 - _ . ~ becomes %HH (bytes, no UTF-8
 *   check).
 */
int		 tmpl_esc_html(tmpl_write_fn, void *, const char *s, size_t n);
int		 tmpl_esc_attr(tmpl_write_fn, void *, const char *s, size_t n);
int		 tmpl_esc_url(tmpl_write_fn, void *, const char *s, size_t n);

/*
 * A tmpl_write_fn appending to a struct buf (arg); -1 when the buffer's cap
 * would be passed or memory is short.
 */
int		 tmpl_write_buf(void *arg, const char *p, size_t n);

/*
 * tdict: a data-driven scope built in an arena, for page code.  Everything
 * lives in the arena and goes away with it; nothing is freed on its own.
 * Keys, lists and bools are separate name spaces; lookups scan linearly.
 */
struct tdict;

/*
 * New empty dict in arena a.  Keys and sections it lacks are looked up in
 * parent (may be NULL).  Returns NULL when out of memory.
 */
struct tdict	*tdict_new(struct arena *a, const struct tdict *parent);

/* Set key to val, both copied into the arena; a second set replaces the
 * value.  Returns 0, or -1 when out of memory. */
int		 tdict_set(struct tdict *, const char *key, const char *val);

/* As tdict_set() with a printf-formatted value. */
int		 tdict_setf(struct tdict *, const char *key, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));

/*
 * Make section a boolean: rendered once, with the scope current at the
 * tag, when on; never when off (which hides a same-named section of the
 * parent).  Returns 0, or -1 when out of memory.
 */
int		 tdict_bool(struct tdict *, const char *section, int on);

/*
 * Append a new child dict to the list called list and return it (NULL
 * when out of memory).  Section list renders once per child, in order.
 * While it renders, a key the child lacks is looked up in the scope
 * current at the section tag (which includes this dict); used as a plain
 * scope, the child falls back to this dict.
 */
struct tdict	*tdict_add(struct tdict *, const char *list);

/* The dict as a scope for tmpl_render(); valid as long as the arena. */
const struct tmpl_scope *tdict_scope(struct tdict *);

#endif /* ZY_TMPL_H */
