/* A shared object without at_plugin_entry: the loader must refuse it. */
__attribute__((visibility("default"))) int not_an_entry(void);

int not_an_entry(void)
{
    return 42;
}
