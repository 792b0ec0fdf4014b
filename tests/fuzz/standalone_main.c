/* Replay driver for libFuzzer-style targets, used when the target is built
 * without -fsanitize=fuzzer (gcc, CI, ctest). Every argument is a file or a
 * directory; directories are walked recursively in name order (so runs are
 * reproducible), hidden entries skipped. Each file is passed to
 * LLVMFuzzerTestOneInput in a buffer of exactly its size, so sanitizers catch
 * reads past the end like libFuzzer would.
 *
 * Exit status: 0 when at least one input ran, 1 when a path cannot be read or
 * nothing was found (an empty or misspelt corpus must not pass silently), 2 on
 * usage errors. A target signals a finding by crashing or aborting. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional one-time setup hook, as in libFuzzer. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *buf = NULL;
    if (!fp) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || st.st_size < 0) {
        fprintf(stderr, "%s: cannot stat: %s\n", path, strerror(errno));
        goto fail;
    }
    size_t size = (size_t)st.st_size;
    /* malloc(0) may return NULL; keep a valid pointer for empty inputs. */
    buf = malloc(size ? size : 1);
    if (!buf) {
        fprintf(stderr, "%s: out of memory\n", path);
        goto fail;
    }
    if (size > 0 && fread(buf, 1, size, fp) != size) {
        fprintf(stderr, "%s: short read\n", path);
        goto fail;
    }
    fclose(fp);
    LLVMFuzzerTestOneInput(buf, size);
    free(buf);
    return 0;

fail:
    free(buf);
    fclose(fp);
    return -1;
}

static int skip_hidden(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

static int run_path(const char *path, size_t *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (run_file(path) != 0) {
            return -1;
        }
        (*count)++;
        return 0;
    }
    struct dirent **names = NULL;
    int n = scandir(path, &names, skip_hidden, alphasort);
    if (n < 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
        char *child = malloc(len);
        if (!child) {
            rc = -1;
        } else {
            snprintf(child, len, "%s/%s", path, names[i]->d_name);
            if (run_path(child, count) != 0) {
                rc = -1;
            }
        }
        free(child);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize) {
        LLVMFuzzerInitialize(&argc, &argv);
    }
    size_t count = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        if (run_path(argv[i], &count) != 0) {
            rc = 1;
        }
    }
    printf("%s: replayed %zu inputs\n", argv[0], count);
    if (count == 0) {
        fprintf(stderr, "%s: no inputs found\n", argv[0]);
        return 1;
    }
    return rc;
}
