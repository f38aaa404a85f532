/// Golden OpenIGTLink messages: the OpenIGTLink C library's test data
/// (`Testing/igtlutil/igtl_test_data_{transform,transformFormat2,status,string,position}.h`, as
/// listed in `protocols.md` §3.6) and the pyigtl-generated TRANSFORM of `protocols.md` §3.6 (b).

/// Bytes from whitespace-separated hex (pairs, or longer runs of pairs).
func hex(_ text: String) -> [UInt8] {
    let digits = text.filter { !$0.isWhitespace }
    precondition(digits.count % 2 == 0)
    var out: [UInt8] = []
    var i = digits.startIndex
    while i < digits.endIndex {
        let j = digits.index(i, offsetBy: 2)
        out.append(UInt8(digits[i..<j], radix: 16)!)
        i = j
    }
    return out
}

/// ASCII bytes of a string.
func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }

enum Golden {
    /// Header fields shared by the C library's vectors: type varies, device "DeviceName",
    /// timestamp raw 0x00000000499602D4.
    static let deviceNameField = "44 65 76 69 63 65 4e 61 6d 65 00 00 00 00 00 00 00 00 00 00"
    static let timestampField = "00 00 00 00 49 96 02 d4"

    /// The 12 floats of the C library's TRANSFORM test data, in wire order.
    static let transformBody = hex(
        "BF7473CD 3E4959E6 BE63DD98 BE4959E6 3E12491B 3F7852D6 3E63DD98 3F7852D6 BDC830AE 42383660 419BC467 42383660"
    )

    /// `igtl_test_data_transform.h`: header version 1, TRANSFORM, body 48, CRC f6dd2b8eb4df6dd2.
    static let transform =
        hex("00 01  54 52 41 4e 53 46 4f 52 4d 00 00 00")
        + hex(deviceNameField) + hex(timestampField)
        + hex("00 00 00 00 00 00 00 30  f6 dd 2b 8e b4 df 6d d2")
        + transformBody

    /// `igtl_test_data_transformFormat2.h`: header version 2, body 117 = 12 + 48 + 18 + 39, message
    /// ID 1, metadata "First patient age"="22", "Second patient age"="25" (US-ASCII).
    static let transformFormat2 =
        hex("00 02  54 52 41 4e 53 46 4f 52 4d 00 00 00")
        + hex(deviceNameField) + hex(timestampField)
        + hex("00 00 00 00 00 00 00 75  f6 98 f6 4f da e2 66 dd")
        + hex("00 0c 00 12 00 00 00 27 00 00 00 01")
        + transformBody
        + hex("00 02  00 11 00 03 00 00 00 02  00 12 00 03 00 00 00 02")
        + ascii("First patient age22Second patient age25")

    /// `igtl_test_data_status.h`: code 15 (disabled), subcode 10, "ACTUATOR_DISABLED",
    /// "Actuator A is disabled." with its NUL; body 0x36.
    static let status =
        hex("00 01  53 54 41 54 55 53 00 00 00 00 00 00")
        + hex(deviceNameField) + hex(timestampField)
        + hex("00 00 00 00 00 00 00 36  98 ee 43 ee d8 e4 31 cf")
        + hex("00 0f  00 00 00 00 00 00 00 0a")
        + hex("41 43 54 55 41 54 4f 52 5f 44 49 53 41 42 4c 45 44 00 00 00")
        + ascii("Actuator A is disabled.") + [0]

    /// `igtl_test_data_string.h`: encoding 3, length 22, "Welcome to OpenIGTLink"; body 0x1a.
    static let string =
        hex("00 01  53 54 52 49 4e 47 00 00 00 00 00 00")
        + hex(deviceNameField) + hex(timestampField)
        + hex("00 00 00 00 00 00 00 1a  ce f1 b4 2a 70 11 04 d4")
        + hex("00 03 00 16") + ascii("Welcome to OpenIGTLink")

    /// `igtl_test_data_position.h`: 28-byte POSITION, x y z then OX OY OZ W.
    static let position =
        hex("00 01  50 4f 53 49 54 49 4f 4e 00 00 00 00")
        + hex(deviceNameField) + hex(timestampField)
        + hex("00 00 00 00 00 00 00 1c  6b c8 d6 28 2b 79 a3 a1")
        + hex("42383660 419bc467 42383660 00000000 3f13cd3a 3f13cd3a 3eaaaaab")

    /// `protocols.md` §3.6 (b): pyigtl's `TransformMessage([[0,0,1,12.5],[1,0,0,-34.25],
    /// [0,1,0,-1500],[0,0,0,1]], timestamp=1700000000.25, device_name="CoilToTracker").pack()`.
    static let pyigtlCoilToTracker = hex(
        """
        00 01 54 52 41 4e 53 46 4f 52 4d 00 00 00 43 6f
        69 6c 54 6f 54 72 61 63 6b 65 72 00 00 00 00 00
        00 00 65 53 f1 00 40 00 00 00 00 00 00 00 00 00
        00 30 43 1b ff a4 56 ca 42 78 00 00 00 00 3f 80
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 3f 80
        00 00 3f 80 00 00 00 00 00 00 00 00 00 00 41 48
        00 00 c2 09 00 00 c4 bb 80 00
        """
    )

    /// `igtl_test_data_positionFormat2.h`: header version 2, the POSITION above, message ID 1 and
    /// the same two metadata entries as the TRANSFORM format 2 vector; body 0x61.
    static let positionFormat2 =
        hex("00 02  50 4f 53 49 54 49 4f 4e 00 00 00 00")
        + hex(deviceNameField) + hex(timestampField)
        + hex("00 00 00 00 00 00 00 61  c7 11 16 42 76 81 c1 e2")
        + hex("00 0c 00 12 00 00 00 27 00 00 00 01")
        + hex("42383660 419bc467 42383660 00000000 3f13cd3a 3f13cd3a 3eaaaaab")
        + hex("00 02  00 11 00 03 00 00 00 02  00 12 00 03 00 00 00 02")
        + ascii("First patient age22Second patient age25")

    /// `igtl_test_data_tdata.h`: three tools "Tracker0" … "Tracker2", type 2 (6D), each with the
    /// TRANSFORM test matrix; body 0xd2 = 3 × 70.
    static let trackingData =
        hex("00 01  54 44 41 54 41 00 00 00 00 00 00 00")
        + hex(deviceNameField) + hex(timestampField)
        + hex("00 00 00 00 00 00 00 d2  5c 7c eb fd 27 67 68 77")
        + (0..<3).flatMap { k in
            ascii("Tracker\(k)") + [UInt8](repeating: 0, count: 12) + [0x02, 0x00] + transformBody
        }
}
