/* vetctl score: score a submission file offline. */
#include <stdio.h>
#include <sysexits.h>

#include "ctl.h"

int ctl_score(struct ctl *ctl, int argc, char **argv)
{
    (void)ctl;
    (void)argc;
    (void)argv;
    fprintf(stderr, "vetctl: score: not built yet\n");
    return EX_SOFTWARE;
}
