/// ASCII bytes of a string.
func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }
