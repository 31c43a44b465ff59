/* libsiov — interrupt remapping: interrupt requests as a device sends them
 * (MSI, MSI-X or an ADI's IMS entry) and what the remapping unit makes of
 * them, through the interrupt remapping table, or posted into a
 * posted-interrupt descriptor (spec chapter 5). */
#ifndef SIOV_IRQ_H
#define SIOV_IRQ_H

#include <siov/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct siov_iommu;

/* An interrupt as the unit delivers it. Remapped (and compatibility-format
   interrupts passed through): destination, vector and the delivery
   attributes. Posted: the vector was recorded in the descriptor at pd_addr,
   and notify says whether the notification event (vector nv to ndst,
   physical, fixed, edge) is due; the model has no local APIC, so the
   embedder delivers it. */
struct siov_irq {
    uint32_t dest;          /* destination id (xAPIC: 8 bits; x2APIC: 32) */
    uint8_t vector;         /* posted: the virtual vector set in the PIR */
    unsigned delivery_mode; /* IRTE.DLM (SIOV_DLM_*) */
    bool dest_logical, level_trigger, redirection_hint;
    bool posted;            /* posted format: recorded in the posted-interrupt descriptor */
    uint64_t pd_addr;       /* posted: the descriptor's address */
    bool notify;            /* posted: a notification event is due */
    uint8_t nv;             /* posted: notification vector (from the descriptor) */
    uint32_t ndst;          /* posted: notification destination (APIC id) */
};

/* A DWORD write of data to addr (0xFEEx_xxxx) from requester sid, without
   PASID: remappable format through the interrupt remapping table (cached in
   the interrupt entry cache), compatibility format where allowed (passed
   through unchanged), and every request unchanged while remapping is off.
   SIOV_OK and *out, or the interrupt-remapping fault (IR.20..IR.2B), which
   is recorded unless the entry's FPD suppresses it. An address not DWORD
   aligned is not a valid MSI: IR.29. SIOV_ERR_BUS, with nothing recorded,
   when iommu or out is NULL or addr is outside 0xFEE00000..0xFEEFFFFF (not
   an interrupt request). Callable from any thread, like siov_translate. */
SIOV_API siov_fault siov_interrupt(struct siov_iommu *iommu, siov_sid sid, uint64_t addr, uint32_t data,
                                   struct siov_irq *out);

#ifdef __cplusplus
}
#endif
#endif
