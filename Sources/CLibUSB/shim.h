// libusb-1.0 for Swift. `pkg-config --cflags libusb-1.0` puts libusb-1.0/ on the include path.
// Swift cannot call C variadic functions, so the ones CoilNav uses are wrapped here.
#ifndef COILNAV_CLIBUSB_SHIM_H
#define COILNAV_CLIBUSB_SHIM_H

#include <libusb.h>

/// libusb_set_option for options that take one int argument (e.g. LIBUSB_OPTION_LOG_LEVEL).
static inline int coilnav_libusb_set_option_int(libusb_context *ctx, enum libusb_option option, int value) {
    return libusb_set_option(ctx, option, value);
}

/// libusb_set_option for options that take no argument (e.g. LIBUSB_OPTION_USE_USBDK).
static inline int coilnav_libusb_set_option(libusb_context *ctx, enum libusb_option option) {
    return libusb_set_option(ctx, option);
}

#endif
