// FFmpeg headers for Swift. Only the Media module imports this.
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libavutil/imgutils.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libavutil/log.h>
#include <libavutil/dict.h>

// Macros Swift cannot import, as constants.
static const int64_t actiond_av_nopts_value = AV_NOPTS_VALUE;
static const int actiond_averror_eof = AVERROR_EOF;
static const int actiond_averror_eagain = AVERROR(EAGAIN);
static const int actiond_averror_invaliddata = AVERROR_INVALIDDATA;
static const int actiond_averror_decoder_not_found = AVERROR_DECODER_NOT_FOUND;
static const int actiond_averror_stream_not_found = AVERROR_STREAM_NOT_FOUND;
static const int actiond_averror_exit = AVERROR_EXIT;
