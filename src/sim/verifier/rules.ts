// The lab's Driver Verifier: every rule a finding can name (DESIGN.md, "The DMA verifier").
// Rules with an `e6` entry are Driver Verifier's DMA checks (reference/wdk/kernel/
// dma-verification.md) with bug check 0xE6's parameter 1 and, where the page gives one, its
// parameter 2 (bug-check-0xe6.md); in the bug-check mode they stop the run as Windows does.
// Rules with another `bugCheck` stop the run with that code; the rest are the lab's own
// teaching rules, always reported and never fatal. Ids are stable: tests, traces and labs
// refer to them.

export interface Rule {
  /** What to do instead, in one plain sentence. */
  advice: string;
  /** The WDK page (reference/wdk) that explains the rule. */
  page: string;
  /** Bug check 0xE6 parameters 1 (and 2) for Driver Verifier's DMA checks. */
  e6?: readonly [number] | readonly [number, number];
  /** Another bug check Windows raises for it. */
  bugCheck?: number;
}

const E6 = 0xe6;
const IRQL_NOT_LESS_OR_EQUAL = 0x0a;
const DRIVER_VERIFIER_DETECTED_VIOLATION = 0xc4;
const IRQL_UNEXPECTED_VALUE = 0xc8;

export const RULES = {
  // ---- Driver Verifier's DMA checks (bug check 0xE6) ----------------------------------
  DMA_FLUSH_TOO_MANY_BYTES: {
    advice: 'Flush exactly the Length that MapTransfer returned for this transfer.',
    page: 'kernel/dma-verification.md',
    e6: [0x00, 0x1],
  },
  DMA_COMMON_BUFFER_FREED_TWICE: {
    advice: 'Free each common buffer once, and forget its address afterwards.',
    page: 'ddi/nc-wdm-pfree_common_buffer.md',
    e6: [0x03],
  },
  DMA_CHANNEL_FREED_TWICE: {
    advice: 'Call FreeAdapterChannel once per AllocateAdapterChannel, after the transfer, and only while the channel is held.',
    page: 'ddi/nc-wdm-pfree_adapter_channel.md',
    e6: [0x04],
  },
  DMA_MAP_REGISTERS_FREED_TWICE: {
    advice: 'Free map registers once, with the MapRegisterBase and count AdapterControl received (after DeallocateObjectKeepRegisters only).',
    page: 'ddi/nc-wdm-pfree_map_registers.md',
    e6: [0x05],
  },
  DMA_SG_LIST_FREED_TWICE: {
    advice: 'Call PutScatterGatherList once for each list AdapterListControl received.',
    page: 'ddi/nc-wdm-pput_scatter_gather_list.md',
    e6: [0x06],
  },
  DMA_PUT_ADAPTER_WITH_COMMON_BUFFERS: {
    advice: 'Free every common buffer with FreeCommonBuffer before PutDmaAdapter.',
    page: 'ddi/nc-wdm-pput_dma_adapter.md',
    e6: [0x07],
  },
  DMA_PUT_ADAPTER_WITH_CHANNEL: {
    advice: 'Call FreeAdapterChannel before PutDmaAdapter.',
    page: 'ddi/nc-wdm-pput_dma_adapter.md',
    e6: [0x08],
  },
  DMA_PUT_ADAPTER_WITH_MAP_REGISTERS: {
    advice: 'Free the map registers (FreeAdapterChannel or FreeMapRegisters) before PutDmaAdapter.',
    page: 'ddi/nc-wdm-pput_dma_adapter.md',
    e6: [0x09],
  },
  DMA_PUT_ADAPTER_WITH_SG_LISTS: {
    advice: 'Give back every scatter/gather list with PutScatterGatherList before PutDmaAdapter.',
    page: 'ddi/nc-wdm-pput_dma_adapter.md',
    e6: [0x0a],
  },
  DMA_TWO_CHANNELS: {
    advice: 'An adapter holds one channel at a time: free it (FreeAdapterChannel) before allocating it again, or queue the request with IoStartPacket.',
    page: 'ddi/nc-wdm-pallocate_adapter_channel.md',
    e6: [0x0b],
  },
  DMA_TOO_MANY_MAP_REGISTERS: {
    advice: 'Ask for at most the NumberOfMapRegisters IoGetDmaAdapter returned, and split larger transfers.',
    page: 'kernel/splitting-dma-transfer-requests.md',
    e6: [0x0c],
  },
  DMA_NOT_FLUSHED: {
    advice: 'Call FlushAdapterBuffers after each transfer, before the next MapTransfer.',
    page: 'ddi/nc-wdm-pflush_adapter_buffers.md',
    e6: [0x0d],
  },
  DMA_BUFFER_NOT_LOCKED: {
    advice: 'Use an MDL whose pages are locked: the IRP\'s MdlAddress, or one built with MmBuildMdlForNonPagedPool.',
    page: 'kernel/using-mdls.md',
    e6: [0x0e],
  },
  DMA_FREE_WHILE_MAPPED: {
    advice: 'Call FlushAdapterBuffers for the last transfer before freeing the channel or its map registers.',
    page: 'ddi/nc-wdm-pfree_adapter_channel.md',
    e6: [0x10],
  },
  DMA_WRONG_IRQL: {
    advice: 'Call each DMA routine at the IRQL its reference page gives (AllocateAdapterChannel and FreeAdapterChannel at DISPATCH_LEVEL; IoGetDmaAdapter and AllocateCommonBuffer at PASSIVE_LEVEL).',
    page: 'kernel/dma-verification.md',
    e6: [0x13],
  },
  DMA_FLUSH_NOT_MAPPED: {
    advice: 'Call FlushAdapterBuffers only after a MapTransfer, once per mapped transfer.',
    page: 'ddi/nc-wdm-pflush_adapter_buffers.md',
    e6: [0x16],
  },
  DMA_ADAPTER_ALREADY_PUT: {
    advice: 'Do not use an adapter after PutDmaAdapter; set your pointer to NULL when you release it.',
    page: 'ddi/nc-wdm-pput_dma_adapter.md',
    e6: [0x18],
  },
  DMA_NULL_ADAPTER: {
    advice: 'Pass the DMA_ADAPTER IoGetDmaAdapter returned, and check it for NULL first.',
    page: 'ddi/nf-wdm-iogetdmaadapter.md',
    e6: [0x19],
  },
  DMA_ADDRESS_NOT_IN_MDL: {
    advice: 'CurrentVa must lie in the MDL\'s buffer: start at MmGetMdlVirtualAddress(Mdl) and advance by the bytes already transferred.',
    page: 'ddi/nc-wdm-pmap_transfer.md',
    e6: [0x1b],
  },
  DMA_ALREADY_MAPPED: {
    advice: 'Flush a mapped range (FlushAdapterBuffers) before mapping it again.',
    page: 'ddi/nc-wdm-pmap_transfer.md',
    e6: [0x1d],
  },
  DMA_LENGTH_BEYOND_MDL: {
    advice: 'Map at most the bytes left in the MDL\'s buffer from CurrentVa.',
    page: 'ddi/nc-wdm-pmap_transfer.md',
    e6: [0x1f, 0x3],
  },
  DMA_FLUSH_WRONG_MAP_REGISTERS: {
    advice: 'Flush with the MapRegisterBase the mapping used (the one AdapterControl received).',
    page: 'ddi/nc-wdm-pflush_adapter_buffers.md',
    e6: [0x20],
  },
  DMA_ZERO_LENGTH: {
    advice: 'Do not map a zero-length transfer; complete the request without DMA.',
    page: 'ddi/nc-wdm-pmap_transfer.md',
    e6: [0x21],
  },
  DMA_UNKNOWN_DESCRIPTION_VERSION: {
    advice: 'Set DEVICE_DESCRIPTION.Version to DEVICE_DESCRIPTION_VERSION, VERSION1, VERSION2 or VERSION3.',
    page: 'ddi/ns-wdm-_device_description.md',
    e6: [0x25],
  },

  // ---- Other bug checks ---------------------------------------------------------------
  IRQL_MISMATCH: {
    advice: 'Call the routine at the IRQL its reference page gives; lower the IRQL or defer the work (a DPC, a work item) first.',
    page: 'ddi/nf-wdm-kegetcurrentirql.md',
    bugCheck: IRQL_NOT_LESS_OR_EQUAL,
  },
  MDL_ALREADY_FREED: {
    advice: 'Do not use an MDL after IoFreeMdl.',
    page: 'ddi/nf-wdm-iofreemdl.md',
    bugCheck: DRIVER_VERIFIER_DETECTED_VIOLATION,
  },
  IRQL_NOT_RESTORED: {
    advice: 'Lower the IRQL back (KeLowerIrql) before the routine returns.',
    page: 'ddi/nf-wdm-kelowerirql.md',
    bugCheck: IRQL_UNEXPECTED_VALUE,
  },

  // ---- The lab's own rules (reported, never fatal) ------------------------------------
  ADAPTER_CONTROL_NOT_KEEP_OBJECT: {
    advice: 'For system DMA, AdapterControl returns KeepObject; free the channel with FreeAdapterChannel when the transfer is done.',
    page: 'kernel/adaptercontrol-routine-requirements.md',
  },
  MAP_TRANSFER_BEYOND_MAP_REGISTERS: {
    advice: 'Map at most PAGE_SIZE × the map registers allocated (counting the offset in the first page); split the transfer.',
    page: 'kernel/splitting-dma-transfer-requests.md',
  },
  FLUSH_COUNT_MISMATCH: {
    advice: 'Call FlushAdapterBuffers once for every MapTransfer of the request before completing it.',
    page: 'kernel/using-packet-based-system-dma.md',
  },
  BUFFER_TOUCHED_WHILE_MAPPED: {
    advice: 'Leave a mapped buffer alone until FlushAdapterBuffers: the controller owns it while the transfer runs.',
    page: 'kernel/flushing-cached-data-during-dma-operations.md',
  },
  KEFLUSHIOBUFFERS_MISSING: {
    advice: 'On a non-coherent platform call KeFlushIoBuffers(Mdl, ReadOperation, TRUE) before each MapTransfer.',
    page: 'kernel/maintaining-cache-coherency.md',
  },
  DIRECT_8237_PROGRAMMING: {
    advice: 'Let the HAL program the DMA controller (MapTransfer); with scatter/gather, program only the channel your list\'s adapter holds.',
    page: 'kernel/introduction-to-adapter-objects.md',
  },
  UNREACHABLE_WITHOUT_MAP_REGISTERS: {
    advice: 'Allocate map registers (AllocateAdapterChannel with ADDRESS_AND_SIZE_TO_SPAN_PAGES) and pass MapRegisterBase to MapTransfer.',
    page: 'kernel/map-registers.md',
  },
  CHANNEL_HELD_AFTER_ERROR: {
    advice: 'On an error, still call FlushAdapterBuffers and FreeAdapterChannel before completing the request.',
    page: 'kernel/using-packet-based-system-dma.md',
  },
  IRP_COMPLETED_WHILE_MAPPED: {
    advice: 'Call FlushAdapterBuffers before IoCompleteRequest: the request\'s buffer is still mapped.',
    page: 'ddi/nf-wdm-iocompleterequest.md',
  },
  MAP_WITHOUT_CHANNEL: {
    advice: 'Call MapTransfer from AdapterControl, after AllocateAdapterChannel granted the channel.',
    page: 'kernel/allocating-an-adapter-channel-for-packet-based-dma.md',
  },
  RESOURCES_LEAKED: {
    advice: 'At IRP_MN_REMOVE_DEVICE give everything back: PutDmaAdapter, FreeCommonBuffer, IoDisconnectInterrupt, ExFreePool, IoDeleteDevice.',
    page: 'kernel/dma-verification.md',
  },
  BAD_DEVICE_DESCRIPTION: {
    advice: 'Describe a subordinate ISA device: Master FALSE, InterfaceType Isa, the channel and width of the device\'s resources, Compatible speed.',
    page: 'ddi/ns-wdm-_device_description.md',
  },
  ADAPTER_WRONG_CHANNEL: {
    advice: 'Take DmaChannel from the CmResourceTypeDma descriptor of the start IRP\'s resources.',
    page: 'ddi/ns-wdm-_device_description.md',
  },
  ADAPTER_CONTROL_BAD_ACTION: {
    advice: 'Return an IO_ALLOCATION_ACTION: KeepObject for system DMA.',
    page: 'ddi/ne-wdm-_io_allocation_action.md',
  },
  COMPLETE_WITH_PENDING: {
    advice: 'Set Irp->IoStatus.Status to the final status before IoCompleteRequest.',
    page: 'ddi/nf-wdm-iocompleterequest.md',
  },
  PENDING_NOT_MARKED: {
    advice: 'Call IoMarkIrpPending before returning STATUS_PENDING.',
    page: 'ddi/nf-wdm-iomarkirppending.md',
  },
  IRP_NOT_PASSED_DOWN_PROPERLY: {
    advice: 'Call IoSkipCurrentIrpStackLocation or IoCopyCurrentIrpStackLocationToNext before IoCallDriver.',
    page: 'ddi/nf-wdm-iogetcurrentirpstacklocation.md',
  },
  INTERRUPT_MODE: {
    advice: 'ISA interrupts are edge-triggered: connect them with InterruptMode Latched.',
    page: 'ddi/nf-wdm-ioconnectinterrupt.md',
  },
  STALL_TOO_LONG: {
    advice: 'Stall at most 50 µs; wait longer with a timer and a DPC.',
    page: 'ddi/nf-wdm-kesettimer.md',
  },
  INVALID_ARGUMENT: {
    advice: 'Pass the objects and values the routine\'s reference page asks for.',
    page: 'ddi',
  },
  MDL_MISUSE: {
    advice: 'Build MDLs as using-mdls.md describes: allocate, build, use, free, in that order.',
    page: 'kernel/using-mdls.md',
  },
} as const satisfies Record<string, Rule>;

export type RuleId = keyof typeof RULES;

export function ruleOf(id: string): Rule {
  return (RULES as Record<string, Rule>)[id] ?? RULES.INVALID_ARGUMENT;
}

/** The bug check a rule raises in the bug-check mode, or null for a teaching rule. */
export function bugCheckOf(rule: Rule): { code: number; p1: number; p2: number } | null {
  if (rule.e6) return { code: E6, p1: rule.e6[0], p2: rule.e6[1] ?? 0 };
  if (rule.bugCheck !== undefined) return { code: rule.bugCheck, p1: 0, p2: 0 };
  return null;
}
