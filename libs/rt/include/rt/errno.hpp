// SPDX-License-Identifier: MIT
// Linux errno values: the numbers every Linux program sees, used wherever Sonde reports errors.
#pragma once

namespace rt {

enum Errno : int {
  kEPERM = 1,
  kENOENT = 2,
  kESRCH = 3,
  kEINTR = 4,
  kEIO = 5,
  kENXIO = 6,
  kE2BIG = 7,
  kENOEXEC = 8,
  kEBADF = 9,
  kECHILD = 10,
  kEAGAIN = 11,
  kENOMEM = 12,
  kEACCES = 13,
  kEFAULT = 14,
  kEBUSY = 16,
  kEEXIST = 17,
  kEXDEV = 18,
  kENODEV = 19,
  kENOTDIR = 20,
  kEISDIR = 21,
  kEINVAL = 22,
  kENFILE = 23,
  kEMFILE = 24,
  kENOTTY = 25,
  kEFBIG = 27,
  kENOSPC = 28,
  kESPIPE = 29,
  kEROFS = 30,
  kEPIPE = 32,
  kERANGE = 34,
  kEDEADLK = 35,
  kENAMETOOLONG = 36,
  kENOSYS = 38,
  kENOTEMPTY = 39,
  kELOOP = 40,
  kENODATA = 61,
  kEPROTO = 71,
  kEBADMSG = 74,
  kEILSEQ = 84,  // a kprobe offset inside an instruction
  kEOVERFLOW = 75,
  kEBADFD = 77,  // bpf(BPF_OBJ_GET_INFO_BY_FD) for an fd that is not open
  kEOPNOTSUPP = 95,
  kETIMEDOUT = 110,
  kESTALE = 116,    // a trace-server handle of an instance that died
  kENOTSUPP = 524,  // Linux-internal, but bpf() returns it to user space
};

}  // namespace rt
