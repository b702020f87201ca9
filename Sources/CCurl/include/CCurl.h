// libcurl for `brise pull`, loaded on first use (dlopen) rather than linked: linking it made every
// brise and brised process load libcurl and its ~25 dependencies (TLS, Kerberos, LDAP, SSH...) at
// start, ~5 MiB of resident pages that a daemon serving a model never uses. The header is libcurl's
// (Debian libcurl4-openssl-dev), for its types and constants. curl_easy_setopt and curl_easy_getinfo
// are variadic, which Swift cannot call: the typed wrappers below can.
#pragma once
#include <curl/curl.h>
#include <stddef.h>

typedef size_t (*ccurl_data_callback)(char *data, size_t size, size_t count, void *context);

/// Loads libcurl (once; thread-safe) and initializes it. Returns NULL when it is ready, else why it
/// is not (a static string). Every other function here needs a successful ccurl_load first.
const char *ccurl_load(void);

CURL *ccurl_easy_init(void);
void ccurl_easy_cleanup(CURL *curl);
CURLcode ccurl_easy_perform(CURL *curl);
const char *ccurl_easy_strerror(CURLcode code);
struct curl_slist *ccurl_slist_append(struct curl_slist *list, const char *line);
void ccurl_slist_free_all(struct curl_slist *list);

CURLcode ccurl_set_long(CURL *curl, CURLoption option, long value);
CURLcode ccurl_set_string(CURL *curl, CURLoption option, const char *value);
CURLcode ccurl_set_pointer(CURL *curl, CURLoption option, void *value);
CURLcode ccurl_set_headers(CURL *curl, struct curl_slist *headers);
CURLcode ccurl_set_callback(CURL *curl, CURLoption option, ccurl_data_callback callback);
long ccurl_response_code(CURL *curl);
