/* last_error.c: why the driver's last failed call failed. The code that
 * finds a failure says why (siov_drv_fail); the public call commits that
 * text when it returns the failure (siov_drv_done), so a call that succeeds
 * after an inner step failed and recovered leaves the last error as it was. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "driver.h"

int siov_drv_fail(struct siov_driver *drv, int err, const char *fmt, ...)
{
    if (drv->pend_error[0])
        return err; /* the first cause found is the one that explains the call */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(drv->pend_error, sizeof(drv->pend_error), fmt, ap);
    va_end(ap);
    return err;
}

/* Every failing path says why through siov_drv_fail before it returns
   (test_driver_faults checks the text of each injected failure), so a
   failure always has its text here. */
int siov_drv_done(struct siov_driver *drv, int ret)
{
    if (ret < 0)
        memcpy(drv->last_error, drv->pend_error, sizeof(drv->last_error));
    drv->pend_error[0] = '\0';
    return ret;
}

const char *siov_driver_last_error(const struct siov_driver *drv)
{
    return drv ? drv->last_error : "";
}
