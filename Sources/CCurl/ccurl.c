// libcurl through dlopen: see include/CCurl.h.
#include "CCurl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    CURLcode (*easy_perform)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} api;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *failure = "libcurl was not loaded";
static char message[512];

#define CCURL_SYMBOL(handle, field, name)                                                                          \
    do {                                                                                                         \
        *(void **)&api.field = dlsym(handle, name);                                                              \
        if (!api.field) {                                                                                        \
            snprintf(message, sizeof message, "libcurl has no %s", name);                                        \
            failure = message;                                                                                   \
            return;                                                                                              \
        }                                                                                                        \
    } while (0)

static void load(void) {
    // The soname the -dev package's library has (libcurl4, OpenSSL), then the GnuTLS build's.
    static const char *const names[] = {"libcurl.so.4", "libcurl-gnutls.so.4"};
    void *handle = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !handle; ++i) handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        snprintf(message, sizeof message, "libcurl could not be loaded (install libcurl4): %s", why ? why : "not found");
        failure = message;
        return;
    }
    CCURL_SYMBOL(handle, global_init, "curl_global_init");
    CCURL_SYMBOL(handle, easy_init, "curl_easy_init");
    CCURL_SYMBOL(handle, easy_cleanup, "curl_easy_cleanup");
    CCURL_SYMBOL(handle, easy_perform, "curl_easy_perform");
    CCURL_SYMBOL(handle, easy_strerror, "curl_easy_strerror");
    CCURL_SYMBOL(handle, easy_setopt, "curl_easy_setopt");
    CCURL_SYMBOL(handle, easy_getinfo, "curl_easy_getinfo");
    CCURL_SYMBOL(handle, slist_append, "curl_slist_append");
    CCURL_SYMBOL(handle, slist_free_all, "curl_slist_free_all");
    // curl_easy_init would do this itself, but not thread-safely; here it runs once, under pthread_once.
    if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        failure = "libcurl could not initialize";
        return;
    }
    failure = NULL;  // the handle stays open for the life of the process
}

const char *ccurl_load(void) {
    pthread_once(&once, load);
    return failure;
}

CURL *ccurl_easy_init(void) { return api.easy_init(); }
void ccurl_easy_cleanup(CURL *curl) { api.easy_cleanup(curl); }
CURLcode ccurl_easy_perform(CURL *curl) { return api.easy_perform(curl); }
const char *ccurl_easy_strerror(CURLcode code) { return api.easy_strerror(code); }
struct curl_slist *ccurl_slist_append(struct curl_slist *list, const char *line) { return api.slist_append(list, line); }
void ccurl_slist_free_all(struct curl_slist *list) { api.slist_free_all(list); }

CURLcode ccurl_set_long(CURL *curl, CURLoption option, long value) { return api.easy_setopt(curl, option, value); }
CURLcode ccurl_set_string(CURL *curl, CURLoption option, const char *value) { return api.easy_setopt(curl, option, value); }
CURLcode ccurl_set_pointer(CURL *curl, CURLoption option, void *value) { return api.easy_setopt(curl, option, value); }
CURLcode ccurl_set_headers(CURL *curl, struct curl_slist *headers) {
    return api.easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
}
CURLcode ccurl_set_callback(CURL *curl, CURLoption option, ccurl_data_callback callback) {
    return api.easy_setopt(curl, option, callback);
}
long ccurl_response_code(CURL *curl) {
    long code = 0;
    api.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    return code;
}
