/* Prints the size and alignment of every struct a caller of libsiov
 * allocates (or that the library hands out by value), one per line, for
 * scripts/check-abi.py: growing one of them is an ABI change (docs/abi.md). */
#include <stdalign.h>
#include <stdio.h>

#include <siov/siov.h>

#define SHOW(T) printf("size %s %zu %zu\n", #T, sizeof(struct T), alignof(struct T))

int main(void)
{
    SHOW(siov_iommu_config);
    SHOW(siov_mem_ops);
    SHOW(siov_xlate);
    SHOW(siov_xlate_req);
    SHOW(siov_xlate_res);
    SHOW(siov_stats);
    SHOW(siov_fault_record);
    SHOW(siov_stale_report);
    SHOW(siov_device_ops);
    SHOW(siov_inval_event);
    SHOW(siov_ats_completion);
    SHOW(siov_atc_stats);
    SHOW(siov_atc_entry);
    SHOW(siov_atc_way);
    SHOW(siov_atc_abi);
    SHOW(siov_irq);
    SHOW(siov_msi);
    SHOW(siov_page_request);
    SHOW(siov_trace_rec);
    SHOW(siov_atc_config);
    return 0;
}
