"""AV1 sequence headers: the largest frame size an AV1 stream's decoder may produce."""

from __future__ import annotations

from vidgate.catalog.bits import Bits


def sequence_size(obu: bytes) -> tuple[int, int]:
    """The largest frame size an AV1 sequence header OBU's payload (AV1 spec 5.5.1) lets the decoder
    produce: max_frame_width_minus_1 + 1 by max_frame_height_minus_1 + 1, read past the timing,
    decoder model and operating point fields."""
    bits = Bits(obu)
    bits.skip(4)  # seq_profile, still_picture
    if bits.u(1):  # reduced_still_picture_header: seq_level_idx[0] alone
        bits.skip(5)
    else:
        model, delay_bits = 0, 0
        if bits.u(1):  # timing_info_present_flag: timing_info()
            bits.skip(64)  # num_units_in_display_tick, time_scale
            if bits.u(1):  # equal_picture_interval
                bits.ue()  # num_ticks_per_picture_minus_1: uvlc(), read as ue(v) (32 leading 0s refused)
            model = bits.u(1)  # decoder_model_info_present_flag
            if model:
                delay_bits = bits.u(5) + 1  # buffer_delay_length_minus_1
                bits.skip(42)  # num_units_in_decoding_tick, buffer_removal_time / presentation_time lengths
        display_delay = bits.u(1)  # initial_display_delay_present_flag
        for _ in range(bits.u(5) + 1):  # operating_points_cnt_minus_1
            bits.skip(12)  # operating_point_idc
            if bits.u(5) > 7:  # seq_level_idx
                bits.skip(1)  # seq_tier
            if model and bits.u(1):  # decoder_model_present_for_this_op: operating_parameters_info()
                bits.skip(2 * delay_bits + 1)  # decoder/encoder_buffer_delay, low_delay_mode_flag
            if display_delay and bits.u(1):  # initial_display_delay_present_for_this_op
                bits.skip(4)
    width_bits, height_bits = bits.u(4) + 1, bits.u(4) + 1
    return bits.u(width_bits) + 1, bits.u(height_bits) + 1
