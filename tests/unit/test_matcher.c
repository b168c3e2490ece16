/*
 * test_matcher.c - the AI readers' data requirements: every rule of every
 * reader, on each side of every limit, with generated headers.
 */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "matcher.h"

/* Series the cases start from. */
enum base {
	BASE_CT,	/* LIDC-IDRI-0002: GE chest CT, 1.25/1.25 mm, 120 kVp */
	BASE_BD,	/* an ideal bone density abdomen CT */
	BASE_DX,	/* NIH ChestX-ray14: DX chest PA */
	BASE_CR,	/* CR hip AP */
	BASE__MAX
};

/*
 * One case: the base series with some values changed.  Zero members keep
 * the base's value: strings NULL, doubles 0 (U sets unknown), tristates
 * and vertebrae through T() and V().
 */
struct tcase {
	const char	*name;
	enum base	 base;
	const char	*modality, *body_part, *description, *kernel;
	const char	*image_type, *view;
	double		 thickness, spacing, kvp;
	int		 contrast, lungs, vert;
	enum reader	 reader;
	int		 fits;
	const char	*reason;	/* exact; NULL: not checked */
	const char	*note;		/* must be in the notes; NULL: none */
	const char	*no_note;	/* must not be in the notes */
};

#define U	NAN
#define T(t)	((t) + 1)
#define V(n)	((n) + 100)

#define NODULE	READER_CT_LUNG_NODULE
#define PNEUMO	READER_CT_PNEUMONIA
#define RIB	READER_CT_RIB_FRACTURE
#define TB	READER_DR_TUBERCULOSIS
#define LIMB	READER_DR_LIMB_FRACTURE
#define BD	READER_CT_BONE_DENSITY
#define CAC	READER_CT_CORONARY_CALCIUM

static void
base_series(enum base b, struct match_series *s)
{
	matcher_series_init(s);
	switch (b) {
	case BASE_CT:
		s->modality = "CT";
		s->body_part = "CHEST";
		s->kernel = "STANDARD";
		s->image_type = "ORIGINAL\\PRIMARY\\AXIAL";
		s->slice_thickness = 1.25;
		s->slice_spacing = 1.25;
		s->kvp = 120;
		s->slices = 261;
		break;
	case BASE_BD:
		s->modality = "CT";
		s->body_part = "ABDOMEN";
		s->kernel = "B30f";
		s->image_type = "ORIGINAL\\PRIMARY\\AXIAL";
		s->slice_thickness = 1.25;
		s->slice_spacing = 1.25;
		s->kvp = 120;
		s->slices = 300;
		s->contrast = TRI_NO;
		s->vertebrae_t12_l2 = 3;
		break;
	case BASE_DX:
		s->modality = "DX";
		s->body_part = "CHEST";
		s->view_position = "PA";
		s->image_type = "ORIGINAL\\PRIMARY";
		s->slices = 1;
		s->lungs_complete = TRI_YES;
		break;
	case BASE_CR:
		s->modality = "CR";
		s->body_part = "HIP";
		s->view_position = "AP";
		s->slices = 1;
		break;
	default:
		fail();
	}
}

static void
case_series(const struct tcase *c, struct match_series *s)
{
	base_series(c->base, s);
	if (c->modality != NULL)
		s->modality = c->modality;
	if (c->body_part != NULL)
		s->body_part = c->body_part;
	if (c->description != NULL)
		s->description = c->description;
	if (c->kernel != NULL)
		s->kernel = c->kernel;
	if (c->image_type != NULL)
		s->image_type = c->image_type;
	if (c->view != NULL)
		s->view_position = c->view;
	if (c->thickness != 0)
		s->slice_thickness = c->thickness;
	if (c->spacing != 0)
		s->slice_spacing = c->spacing;
	if (c->kvp != 0)
		s->kvp = c->kvp;
	if (c->contrast != 0)
		s->contrast = (enum tristate)(c->contrast - 1);
	if (c->lungs != 0)
		s->lungs_complete = (enum tristate)(c->lungs - 1);
	if (c->vert != 0)
		s->vertebrae_t12_l2 = c->vert - 100;
}

static const struct tcase cases[] = {
	/* The base series themselves. */
	{ "lidc nodule", BASE_CT, .reader = NODULE, .fits = 1,
	  .note = "尚未核实是否包含完整肺部", .no_note = "建议层厚" },
	{ "lidc pneumonia", BASE_CT, .reader = PNEUMO, .fits = 1 },
	{ "lidc rib", BASE_CT, .reader = RIB, .fits = 1,
	  .note = "建议使用骨算法（锐利卷积核）重建" },
	{ "lidc bone density", BASE_CT, .reader = BD, .fits = 1,
	  .note = "尚未核实 T12、L1、L2 椎体覆盖" },
	{ "lidc calcium", BASE_CT, .reader = CAC, .fits = 1,
	  .note = "未核实是否为平扫", .no_note = "管电压" },
	{ "bd base", BASE_BD, .reader = BD, .fits = 1, .no_note = "建议" },
	{ "dx tb", BASE_DX, .reader = TB, .fits = 1, .no_note = "肺" },
	{ "cr hip limb", BASE_CR, .reader = LIMB, .fits = 1 },

	/* Modality. */
	{ "tb on ct", BASE_CT, .reader = TB, .fits = 0,
	  .reason = "检查类型为 CT，肺结核仅支持 DR（DX、CR）" },
	{ "limb on ct", BASE_CT, .reader = LIMB, .fits = 0 },
	{ "nodule on dx", BASE_DX, .reader = NODULE, .fits = 0,
	  .reason = "检查类型为 DX，肺结节仅支持 CT" },
	{ "calcium on cr", BASE_CR, .reader = CAC, .fits = 0 },
	{ "tb on cr", BASE_DX, .modality = "CR", .reader = TB, .fits = 1 },
	{ "tb on dr", BASE_DX, .modality = "DR", .reader = TB, .fits = 1 },
	{ "tb on lower dx", BASE_DX, .modality = "dx", .reader = TB,
	  .fits = 1 },
	{ "tb on rf", BASE_DX, .modality = "RF", .reader = TB, .fits = 0,
	  .reason = "检查类型为 RF，肺结核仅支持 DR（DX、CR）" },
	{ "tb on mg", BASE_DX, .modality = "MG", .reader = TB, .fits = 0 },
	{ "nodule on mr", BASE_CT, .modality = "MR", .reader = NODULE,
	  .fits = 0 },
	{ "no modality", BASE_CT, .modality = "", .reader = PNEUMO,
	  .fits = 0, .reason = "检查类型未知，肺炎仅支持 CT" },

	/* Image type. */
	{ "localizer", BASE_CT, .image_type = "ORIGINAL\\PRIMARY\\LOCALIZER",
	  .reader = NODULE, .fits = 0,
	  .reason = "该序列为定位像（LOCALIZER），肺结节要求断层重建图像" },
	{ "mip", BASE_CT, .image_type = "DERIVED\\SECONDARY\\MIP",
	  .reader = PNEUMO, .fits = 0 },
	{ "reformatted", BASE_CT, .image_type = "DERIVED\\SECONDARY\\AXIAL",
	  .reader = PNEUMO, .fits = 1 },
	{ "localizer dx", BASE_DX, .image_type = "ORIGINAL\\LOCALIZER",
	  .reader = TB, .fits = 1 },

	/* Body region, by code and by description, for each reader. */
	{ "head ct", BASE_CT, .body_part = "HEAD", .reader = NODULE,
	  .fits = 0,
	  .reason = "检查部位为头部，肺结节仅支持胸部平扫、胸腹连扫" },
	{ "pelvis ct", BASE_CT, .body_part = "PELVIS", .reader = PNEUMO,
	  .fits = 0,
	  .reason = "检查部位为 PELVIS，肺炎仅支持胸部平扫、胸腹连扫" },
	{ "abdomen nodule", BASE_CT, .body_part = "ABDOMEN",
	  .reader = NODULE, .fits = 0,
	  .reason = "检查部位为腹部，肺结节仅支持胸部平扫、胸腹连扫" },
	{ "abdomen calcium", BASE_CT, .body_part = "ABDOMEN",
	  .reader = CAC, .fits = 0 },
	{ "abdomen bd", BASE_CT, .body_part = "ABDOMEN", .reader = BD,
	  .fits = 1 },
	{ "lspine bd", BASE_CT, .body_part = "LSPINE", .reader = BD,
	  .fits = 1 },
	{ "lspine rib", BASE_CT, .body_part = "LSPINE", .reader = RIB,
	  .fits = 0,
	  .reason = "检查部位为腰椎，CT骨折仅支持胸部平扫、胸腹连扫" },
	{ "chest-abdomen nodule", BASE_CT, .body_part = "CHEST_TO_PELVIS",
	  .reader = NODULE, .fits = 1 },
	{ "chest-abdomen calcium", BASE_CT, .body_part = "CHESTABDOMEN",
	  .reader = CAC, .fits = 1 },
	{ "chest-abdomen bd", BASE_CT, .body_part = "CHESTABDOMEN",
	  .reader = BD, .fits = 1 },
	{ "heart calcium", BASE_CT, .body_part = "HEART", .reader = CAC,
	  .fits = 1 },
	{ "tspine bd", BASE_CT, .body_part = "TSPINE", .reader = BD,
	  .fits = 0,
	  .reason = "检查部位为 TSPINE，骨密度仅支持胸部平扫、腹部平扫、"
	  "胸腹连扫、腰椎平扫" },
	{ "desc zh chest", BASE_CT, .body_part = "",
	  .description = "胸部平扫 1.25mm", .reader = NODULE, .fits = 1 },
	{ "desc zh chest-abd", BASE_CT, .body_part = "",
	  .description = "胸腹连扫", .reader = PNEUMO, .fits = 1 },
	{ "desc zh lumbar", BASE_CT, .body_part = "",
	  .description = "腰椎平扫", .reader = BD, .fits = 1 },
	{ "desc zh lumbar nodule", BASE_CT, .body_part = "",
	  .description = "腰椎平扫", .reader = NODULE, .fits = 0 },
	{ "desc en chest", BASE_CT, .body_part = "",
	  .description = "CT Chest w/o contrast", .reader = RIB, .fits = 1 },
	{ "desc en head", BASE_CT, .body_part = "",
	  .description = "HEAD ROUTINE", .reader = PNEUMO, .fits = 0,
	  .reason = "检查部位为头部，肺炎仅支持胸部平扫、胸腹连扫" },
	/* Nothing names a region (anonymisation removed it): the reader
	 * judges by the image. */
	{ "unknown region", BASE_CT, .body_part = "", .reader = NODULE,
	  .fits = 1 },
	{ "unknown region lungs", BASE_CT, .body_part = "",
	  .lungs = T(TRI_YES), .reader = NODULE, .fits = 1 },
	{ "unknown region calcium lungs", BASE_CT, .body_part = "",
	  .lungs = T(TRI_YES), .reader = CAC, .fits = 1 },
	{ "unknown region bd vertebrae", BASE_BD, .body_part = "",
	  .vert = V(2), .reader = BD, .fits = 1 },
	{ "unknown region bd no vertebrae", BASE_BD, .body_part = "",
	  .vert = V(-1), .reader = BD, .fits = 1 },
	{ "contradictory region", BASE_CT, .body_part = "",
	  .description = "头颅 胸部", .reader = NODULE, .fits = 0,
	  .reason = "无法确定检查部位，肺结节仅支持胸部平扫、胸腹连扫" },
	{ "tb abdomen", BASE_DX, .body_part = "ABDOMEN", .reader = TB,
	  .fits = 0,
	  .reason = "检查部位为腹部，肺结核仅支持胸部正位" },
	{ "tb unknown region", BASE_DX, .body_part = "",
	  .lungs = T(TRI_UNKNOWN), .reader = TB, .fits = 0 },
	{ "limb chest", BASE_DX, .reader = LIMB, .fits = 0,
	  .reason = "检查部位为胸部，DR骨折仅支持四肢" },
	{ "limb shoulder", BASE_CR, .body_part = "SHOULDER", .reader = LIMB,
	  .fits = 1 },
	{ "limb tibia ankle", BASE_CR, .body_part = "",
	  .description = "TIB/FIB ANKLE", .reader = LIMB, .fits = 1 },
	{ "limb zh", BASE_CR, .body_part = "", .description = "左胫腓骨正侧位",
	  .reader = LIMB, .fits = 1 },
	{ "limb zh femoral head", BASE_CR, .body_part = "",
	  .description = "右股骨头", .reader = LIMB, .fits = 1 },
	{ "limb pelvis", BASE_CR, .body_part = "PELVIS", .reader = LIMB,
	  .fits = 0, .reason = "检查部位为 PELVIS，DR骨折仅支持四肢" },
	{ "limb head", BASE_CR, .body_part = "SKULL", .reader = LIMB,
	  .fits = 0, .reason = "检查部位为头部，DR骨折仅支持四肢" },

	/* DR view position. */
	{ "tb ap", BASE_DX, .view = "AP", .reader = TB, .fits = 1,
	  .note = "前后位（AP）片，建议后前位（PA）" },
	{ "tb ll", BASE_DX, .view = "LL", .reader = TB, .fits = 0,
	  .reason = "投照体位为 LL（侧位），肺结核要求胸部正位（PA/AP）" },
	{ "tb rl", BASE_DX, .view = "RL", .reader = TB, .fits = 0 },
	{ "tb lld", BASE_DX, .view = "LLD", .reader = TB, .fits = 0,
	  .reason = "投照体位为 LLD（侧卧位），肺结核要求胸部正位（PA/AP）" },
	{ "tb rlo", BASE_DX, .view = "RLO", .reader = TB, .fits = 0 },
	{ "tb no view", BASE_DX, .view = "", .reader = TB, .fits = 1,
	  .note = "未能确认投照体位为正位" },
	{ "tb desc frontal", BASE_DX, .view = "", .description = "胸部正位",
	  .reader = TB, .fits = 1, .no_note = "投照体位" },
	{ "tb desc lateral", BASE_DX, .view = "", .description = "胸部侧位",
	  .reader = TB, .fits = 0,
	  .reason = "投照体位为侧位，肺结核要求胸部正位（PA/AP）" },
	{ "tb desc en lateral", BASE_DX, .view = "",
	  .description = "CHEST LAT", .reader = TB, .fits = 0 },
	{ "tb desc both", BASE_DX, .view = "",
	  .description = "CHEST PA AND LATERAL", .reader = TB, .fits = 1,
	  .note = "未能确认投照体位为正位" },
	{ "limb lateral", BASE_CR, .view = "LL", .reader = LIMB, .fits = 1 },

	/* Thickness, each side of each limit. */
	{ "nodule 3", BASE_CT, .thickness = 3, .spacing = 3, .reader = NODULE,
	  .fits = 1, .note = "建议层厚/层间距 1.25 mm/1.25 mm" },
	{ "nodule 3.005", BASE_CT, .thickness = 3.005, .spacing = 3,
	  .reader = NODULE, .fits = 1 },
	{ "nodule 3.1", BASE_CT, .thickness = 3.1, .spacing = 3,
	  .reader = NODULE, .fits = 0,
	  .reason = "层厚 3.1 mm，超过肺结节要求的 3 mm" },
	{ "pneumonia 5", BASE_CT, .thickness = 5, .spacing = 5,
	  .reader = PNEUMO, .fits = 1 },
	{ "pneumonia 5.5", BASE_CT, .thickness = 5.5, .spacing = 5,
	  .reader = PNEUMO, .fits = 0,
	  .reason = "层厚 5.5 mm，超过肺炎要求的 5 mm" },
	{ "rib 2", BASE_CT, .thickness = 2, .spacing = 2, .reader = RIB,
	  .fits = 1 },
	{ "rib 2.5", BASE_CT, .thickness = 2.5, .spacing = 2, .reader = RIB,
	  .fits = 0, .reason = "层厚 2.5 mm，超过CT骨折要求的 2 mm" },
	{ "bd 2.5", BASE_BD, .thickness = 2.5, .spacing = 2.5, .reader = BD,
	  .fits = 1, .note = "建议层厚/层间距 1.25 mm/1.25 mm" },
	{ "bd 3", BASE_BD, .thickness = 3, .spacing = 2.5, .reader = BD,
	  .fits = 0, .reason = "层厚 3 mm，超过骨密度要求的 2.5 mm" },
	{ "calcium 1.25 noise", BASE_CT, .thickness = 1.25000001,
	  .spacing = 1.2500001, .reader = CAC, .fits = 1 },
	{ "calcium 1.5", BASE_CT, .thickness = 1.5, .spacing = 1.25,
	  .reader = CAC, .fits = 0,
	  .reason = "层厚 1.5 mm，超过冠脉钙化积分要求的 1.25 mm" },
	{ "calcium 0.625", BASE_CT, .thickness = 0.625, .spacing = 0.625,
	  .reader = CAC, .fits = 1 },
	{ "unknown thickness", BASE_CT, .thickness = U, .reader = NODULE,
	  .fits = 0, .reason = "层厚未知，肺结节要求层厚不超过 3 mm" },
	{ "unknown thickness calcium", BASE_CT, .thickness = U, .reader = CAC,
	  .fits = 0,
	  .reason = "层厚未知，冠脉钙化积分要求层厚不超过 1.25 mm" },
	{ "zero thickness", BASE_CT, .thickness = -1, .reader = PNEUMO,
	  .fits = 0 },

	/* Spacing, each side of each limit. */
	{ "nodule spacing 3.1", BASE_CT, .spacing = 3.1, .reader = NODULE,
	  .fits = 0, .reason = "层间距 3.1 mm，超过肺结节要求的 3 mm" },
	{ "pneumonia spacing 5", BASE_CT, .spacing = 5, .reader = PNEUMO,
	  .fits = 1, .note = "建议层厚/层间距" },
	{ "pneumonia spacing 6", BASE_CT, .spacing = 6, .reader = PNEUMO,
	  .fits = 0, .reason = "层间距 6 mm，超过肺炎要求的 5 mm" },
	{ "rib spacing 2.01", BASE_CT, .spacing = 2.005, .reader = RIB,
	  .fits = 1 },
	{ "rib spacing 2.1", BASE_CT, .spacing = 2.1, .reader = RIB,
	  .fits = 0, .reason = "层间距 2.1 mm，超过CT骨折要求的 2 mm" },
	{ "bd spacing 2.6", BASE_BD, .spacing = 2.6, .reader = BD,
	  .fits = 0, .reason = "层间距 2.6 mm，超过骨密度要求的 2.5 mm" },
	{ "calcium spacing 1.3", BASE_CT, .spacing = 1.3, .reader = CAC,
	  .fits = 0,
	  .reason = "层间距 1.3 mm，超过冠脉钙化积分要求的 1.25 mm" },
	{ "negative ge spacing", BASE_CT, .spacing = -1.25, .reader = CAC,
	  .fits = 1 },
	{ "negative ge spacing far", BASE_CT, .spacing = -5, .reader = NODULE,
	  .fits = 0, .reason = "层间距 5 mm，超过肺结节要求的 3 mm" },
	{ "unknown spacing", BASE_CT, .spacing = U, .reader = NODULE,
	  .fits = 1, .note = "层间距未知，暂按层厚核对" },
	{ "overlapping", BASE_CT, .thickness = 1.25, .spacing = 0.625,
	  .reader = CAC, .fits = 1 },

	/* Tube voltage. */
	{ "bd 79 kV", BASE_BD, .kvp = 79, .reader = BD, .fits = 0,
	  .reason = "管电压 79 kV，超出骨密度要求的 80–150 kV" },
	{ "bd 80 kV", BASE_BD, .kvp = 80, .reader = BD, .fits = 1,
	  .note = "建议管电压 120 kV" },
	{ "bd 150 kV", BASE_BD, .kvp = 150, .reader = BD, .fits = 1 },
	{ "bd 151 kV", BASE_BD, .kvp = 151, .reader = BD, .fits = 0,
	  .reason = "管电压 151 kV，超出骨密度要求的 80–150 kV" },
	{ "bd 160 kV", BASE_BD, .kvp = 160, .reader = BD, .fits = 0,
	  .reason = "管电压 160 kV，超出骨密度要求的 80–150 kV" },
	{ "bd unknown kV", BASE_BD, .kvp = U, .reader = BD, .fits = 1,
	  .note = "管电压未知" },
	{ "calcium 39 kV", BASE_CT, .kvp = 39, .reader = CAC, .fits = 0,
	  .reason = "管电压 39 kV，超出冠脉钙化积分要求的 40–200 kV" },
	{ "calcium 40 kV", BASE_CT, .kvp = 40, .reader = CAC, .fits = 1,
	  .note = "建议管电压 120 kV" },
	{ "calcium 200 kV", BASE_CT, .kvp = 200, .reader = CAC, .fits = 1 },
	{ "calcium 201 kV", BASE_CT, .kvp = 201, .reader = CAC, .fits = 0 },
	{ "nodule 160 kV", BASE_CT, .kvp = 160, .reader = NODULE, .fits = 1,
	  .no_note = "管电压" },

	/* Kernels. */
	{ "bd lung kernel", BASE_BD, .kernel = "LUNG", .reader = BD,
	  .fits = 0,
	  .reason = "卷积核 LUNG 为锐利算法，骨密度要求标准重建算法" },
	{ "calcium bone kernel", BASE_CT, .kernel = "BONE", .reader = CAC,
	  .fits = 0,
	  .reason = "卷积核 BONE 为锐利算法，冠脉钙化积分要求标准重建算法" },
	{ "bd siemens b70f", BASE_BD, .kernel = "B70f", .reader = BD,
	  .fits = 0,
	  .reason = "卷积核 B70f 为锐利算法，骨密度要求标准重建算法" },
	{ "bd siemens br36", BASE_BD, .kernel = "Br36\\3", .reader = BD,
	  .fits = 1 },
	{ "bd canon fc13", BASE_BD, .kernel = "FC13", .reader = BD,
	  .fits = 1 },
	{ "bd canon fc86", BASE_BD, .kernel = "FC86", .reader = BD,
	  .fits = 0 },
	{ "bd philips b", BASE_BD, .kernel = "B", .reader = BD, .fits = 1 },
	{ "bd philips yb", BASE_BD, .kernel = "YB", .reader = BD, .fits = 0 },
	{ "bd uih soft", BASE_BD, .kernel = "B_SOFT_B", .reader = BD,
	  .fits = 1 },
	{ "bd uih sharp", BASE_BD, .kernel = "B_SHARP_C", .reader = BD,
	  .fits = 0 },
	{ "bd no kernel", BASE_BD, .kernel = "", .reader = BD, .fits = 1,
	  .note = "卷积核未知，未核实是否为标准重建算法" },
	{ "bd odd kernel", BASE_BD, .kernel = "K9", .reader = BD, .fits = 1,
	  .note = "卷积核 K9 无法识别，未核实是否为标准重建算法" },
	{ "nodule lung kernel", BASE_CT, .kernel = "LUNG", .reader = NODULE,
	  .fits = 1, .no_note = "卷积核" },
	{ "pneumonia b70f", BASE_CT, .kernel = "B70f", .reader = PNEUMO,
	  .fits = 1 },
	{ "rib bone kernel", BASE_CT, .kernel = "BONE", .reader = RIB,
	  .fits = 1, .no_note = "骨算法" },
	{ "rib soft kernel", BASE_CT, .kernel = "B30f", .reader = RIB,
	  .fits = 1, .note = "建议使用骨算法" },

	/* Contrast. */
	{ "calcium enhanced", BASE_CT, .contrast = T(TRI_YES), .reader = CAC,
	  .fits = 0, .reason = "该序列为增强扫描，冠脉钙化积分仅支持平扫" },
	{ "calcium plain", BASE_CT, .contrast = T(TRI_NO), .reader = CAC,
	  .fits = 1, .no_note = "平扫" },
	{ "bd enhanced", BASE_BD, .contrast = T(TRI_YES), .reader = BD,
	  .fits = 0, .reason = "该序列为增强扫描，骨密度仅支持平扫" },
	{ "nodule enhanced", BASE_CT, .contrast = T(TRI_YES),
	  .reader = NODULE, .fits = 1, .note = "增强扫描" },

	/* Lung coverage. */
	{ "nodule lungs cut", BASE_CT, .lungs = T(TRI_NO), .reader = NODULE,
	  .fits = 0, .reason = "扫描未包含完整肺部，肺结节要求包含完整肺部" },
	{ "pneumonia lungs cut", BASE_CT, .lungs = T(TRI_NO),
	  .reader = PNEUMO, .fits = 0 },
	{ "rib lungs cut", BASE_CT, .lungs = T(TRI_NO), .reader = RIB,
	  .fits = 0 },
	{ "tb lungs cut", BASE_DX, .lungs = T(TRI_NO), .reader = TB,
	  .fits = 0, .reason = "扫描未包含完整肺部，肺结核要求包含完整肺部" },
	{ "calcium lungs cut", BASE_CT, .lungs = T(TRI_NO), .reader = CAC,
	  .fits = 1 },
	{ "bd lungs cut", BASE_BD, .body_part = "CHEST",
	  .lungs = T(TRI_NO), .reader = BD, .fits = 1 },
	{ "nodule lungs whole", BASE_CT, .lungs = T(TRI_YES),
	  .reader = NODULE, .fits = 1, .no_note = "肺部" },

	/* Vertebrae T12-L2. */
	{ "bd 0 vertebrae", BASE_BD, .vert = V(0), .reader = BD, .fits = 0,
	  .reason = "扫描仅包含 T12、L1、L2 中 0 个椎体，"
	  "骨密度要求不少于 2 个" },
	{ "bd 1 vertebra", BASE_BD, .vert = V(1), .reader = BD, .fits = 0,
	  .reason = "扫描仅包含 T12、L1、L2 中 1 个椎体，"
	  "骨密度要求不少于 2 个" },
	{ "bd 2 vertebrae", BASE_BD, .vert = V(2), .reader = BD, .fits = 1,
	  .note = "建议扫描至 L2" },
	{ "bd 3 vertebrae", BASE_BD, .vert = V(3), .reader = BD, .fits = 1,
	  .no_note = "L2" },
	{ "bd unknown vertebrae", BASE_BD, .vert = V(-1), .reader = BD,
	  .fits = 1, .note = "尚未核实 T12、L1、L2 椎体覆盖" },
	{ "nodule 0 vertebrae", BASE_CT, .vert = V(0), .reader = NODULE,
	  .fits = 1 },

	/* The first failing rule is the one reported. */
	{ "order modality first", BASE_DX, .thickness = 9, .reader = NODULE,
	  .fits = 0, .reason = "检查类型为 DX，肺结节仅支持 CT" },
	{ "order region before thickness", BASE_CT, .body_part = "HEAD",
	  .thickness = 5, .reader = NODULE, .fits = 0,
	  .reason = "检查部位为头部，肺结节仅支持胸部平扫、胸腹连扫" },
	{ "order thickness before kernel", BASE_BD, .thickness = 5,
	  .kernel = "BONE", .reader = BD, .fits = 0,
	  .reason = "层厚 5 mm，超过骨密度要求的 2.5 mm" },
};

static void
test_cases(void **state)
{
	struct match_series	 s;
	struct match_result	 res;
	size_t			 i;
	int			 bad = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase	*c = &cases[i];

		case_series(c, &s);
		matcher_check(&s, c->reader, &res);
		if (res.fits != c->fits ||
		    (c->reason != NULL && strcmp(res.reason, c->reason) != 0) ||
		    (c->note != NULL && strstr(res.notes, c->note) == NULL) ||
		    (c->no_note != NULL &&
		    strstr(res.notes, c->no_note) != NULL) ||
		    (res.fits && (res.reason[0] != '\0' ||
		    res.rule != MATCH_OK)) ||
		    (!res.fits && (res.reason[0] == '\0' ||
		    res.rule == MATCH_OK))) {
			print_error("case \"%s\": fits %d rule %d "
			    "reason \"%s\" notes \"%s\"\n", c->name, res.fits,
			    res.rule, res.reason, res.notes);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static const struct {
	const char		*body_part, *description;
	enum tristate		 lungs;
	enum body_region	 want;
} region_cases[] = {
	{ "CHEST", "", TRI_UNKNOWN, REGION_CHEST },
	{ "chest", "", TRI_UNKNOWN, REGION_CHEST },
	{ "THORAX", "", TRI_UNKNOWN, REGION_CHEST },
	{ "LUNG", "", TRI_UNKNOWN, REGION_CHEST },
	{ "HEART", "", TRI_UNKNOWN, REGION_CHEST },
	{ "ABDOMEN", "", TRI_UNKNOWN, REGION_ABDOMEN },
	{ "ABDOMEN_PELVIS", "", TRI_UNKNOWN, REGION_ABDOMEN },
	{ "CHESTABDOMEN", "", TRI_UNKNOWN, REGION_CHEST_ABDOMEN },
	{ "CHEST_TO_PELVIS", "", TRI_UNKNOWN, REGION_CHEST_ABDOMEN },
	{ "CHEST ABDOMEN", "", TRI_UNKNOWN, REGION_CHEST_ABDOMEN },
	{ "WHOLEBODY", "", TRI_UNKNOWN, REGION_CHEST_ABDOMEN },
	{ "LSPINE", "", TRI_UNKNOWN, REGION_LUMBAR },
	{ "L-SPINE", "", TRI_UNKNOWN, REGION_LUMBAR },
	{ "TSPINE", "", TRI_UNKNOWN, REGION_OTHER },
	{ "PELVIS", "", TRI_UNKNOWN, REGION_OTHER },
	{ "HAND", "", TRI_UNKNOWN, REGION_LIMB },
	{ "WRIST", "", TRI_UNKNOWN, REGION_LIMB },
	{ "ELBOW", "", TRI_UNKNOWN, REGION_LIMB },
	{ "FOREARM", "", TRI_UNKNOWN, REGION_LIMB },
	{ "ARM", "", TRI_UNKNOWN, REGION_LIMB },
	{ "HUMERUS", "", TRI_UNKNOWN, REGION_LIMB },
	{ "SHOULDER", "", TRI_UNKNOWN, REGION_LIMB },
	{ "CLAVICLE", "", TRI_UNKNOWN, REGION_LIMB },
	{ "KNEE", "", TRI_UNKNOWN, REGION_LIMB },
	{ "LEG", "", TRI_UNKNOWN, REGION_LIMB },
	{ "TIBIA", "", TRI_UNKNOWN, REGION_LIMB },
	{ "FIBULA", "", TRI_UNKNOWN, REGION_LIMB },
	{ "ANKLE", "", TRI_UNKNOWN, REGION_LIMB },
	{ "FOOT", "", TRI_UNKNOWN, REGION_LIMB },
	{ "FEMUR", "", TRI_UNKNOWN, REGION_LIMB },
	{ "HIP", "", TRI_UNKNOWN, REGION_LIMB },
	{ "EXTREMITY", "", TRI_UNKNOWN, REGION_LIMB },
	{ "TIBIA ANKLE", "", TRI_UNKNOWN, REGION_LIMB },
	{ "HEAD", "", TRI_UNKNOWN, REGION_HEAD },
	{ "BRAIN", "", TRI_UNKNOWN, REGION_HEAD },
	{ "SKULL", "", TRI_UNKNOWN, REGION_HEAD },
	{ "", "胸部平扫", TRI_UNKNOWN, REGION_CHEST },
	{ "", "肺部CT", TRI_UNKNOWN, REGION_CHEST },
	{ "", "胸腹连扫", TRI_UNKNOWN, REGION_CHEST_ABDOMEN },
	{ "", "胸部+腹部", TRI_UNKNOWN, REGION_CHEST_ABDOMEN },
	{ "", "上腹部平扫", TRI_UNKNOWN, REGION_ABDOMEN },
	{ "", "全腹部+盆腔", TRI_UNKNOWN, REGION_ABDOMEN },
	{ "", "腰椎平扫", TRI_UNKNOWN, REGION_LUMBAR },
	{ "", "腹部 腰椎", TRI_UNKNOWN, REGION_LUMBAR },
	{ "", "胸椎", TRI_UNKNOWN, REGION_OTHER },
	{ "", "四肢", TRI_UNKNOWN, REGION_LIMB },
	{ "", "右手正斜位", TRI_UNKNOWN, REGION_LIMB },
	{ "", "左腕关节", TRI_UNKNOWN, REGION_LIMB },
	{ "", "肘关节", TRI_UNKNOWN, REGION_LIMB },
	{ "", "前臂", TRI_UNKNOWN, REGION_LIMB },
	{ "", "上臂", TRI_UNKNOWN, REGION_LIMB },
	{ "", "肩关节", TRI_UNKNOWN, REGION_LIMB },
	{ "", "膝关节", TRI_UNKNOWN, REGION_LIMB },
	{ "", "小腿", TRI_UNKNOWN, REGION_LIMB },
	{ "", "胫腓骨", TRI_UNKNOWN, REGION_LIMB },
	{ "", "踝关节", TRI_UNKNOWN, REGION_LIMB },
	{ "", "足", TRI_UNKNOWN, REGION_LIMB },
	{ "", "股骨", TRI_UNKNOWN, REGION_LIMB },
	{ "", "股骨头", TRI_UNKNOWN, REGION_LIMB },
	{ "", "髋关节", TRI_UNKNOWN, REGION_LIMB },
	{ "", "头颅平扫", TRI_UNKNOWN, REGION_HEAD },
	{ "", "颅脑", TRI_UNKNOWN, REGION_HEAD },
	{ "", "手术后胸部复查", TRI_UNKNOWN, REGION_CHEST },
	{ "", "CT CHEST W/O CONTRAST", TRI_UNKNOWN, REGION_CHEST },
	{ "", "Chest 1.25mm Lung", TRI_UNKNOWN, REGION_CHEST },
	{ "", "ABD PELVIS", TRI_UNKNOWN, REGION_ABDOMEN },
	{ "", "CHEST ABD PELVIS", TRI_UNKNOWN, REGION_CHEST_ABDOMEN },
	{ "", "L-SPINE", TRI_UNKNOWN, REGION_LUMBAR },
	{ "", "Lumbar Spine", TRI_UNKNOWN, REGION_LUMBAR },
	{ "", "THORACIC SPINE", TRI_UNKNOWN, REGION_OTHER },
	{ "", "LEFT KNEE", TRI_UNKNOWN, REGION_LIMB },
	{ "", "FEMORAL HEAD", TRI_UNKNOWN, REGION_LIMB },
	{ "", "HEAD AND CHEST", TRI_UNKNOWN, REGION_UNKNOWN },
	{ "", "头颅 胸部", TRI_UNKNOWN, REGION_UNKNOWN },
	{ "", "PHARMACY", TRI_UNKNOWN, REGION_UNKNOWN },
	{ "", "", TRI_UNKNOWN, REGION_UNKNOWN },
	{ "XYZ", "", TRI_UNKNOWN, REGION_UNKNOWN },
	{ "XYZ", "胸部", TRI_UNKNOWN, REGION_CHEST },
	{ "", "", TRI_YES, REGION_CHEST },
	{ "", "", TRI_NO, REGION_UNKNOWN },
	{ "HEAD", "", TRI_YES, REGION_HEAD },
	{ "CHEST", "头颅", TRI_UNKNOWN, REGION_CHEST },
};

static void
test_region(void **state)
{
	struct match_series	 s;
	size_t			 i;
	int			 bad = 0;
	enum body_region	 r;

	(void)state;
	for (i = 0; i < sizeof(region_cases) / sizeof(region_cases[0]); i++) {
		matcher_series_init(&s);
		s.body_part = region_cases[i].body_part;
		s.description = region_cases[i].description;
		s.lungs_complete = region_cases[i].lungs;
		if ((r = matcher_region(&s)) != region_cases[i].want) {
			print_error("region \"%s\" \"%s\": %d, want %d\n",
			    region_cases[i].body_part,
			    region_cases[i].description, r,
			    region_cases[i].want);
			bad++;
		}
	}
	s.body_part = NULL;
	s.description = NULL;
	s.lungs_complete = TRI_UNKNOWN;
	assert_int_equal(matcher_region(&s), REGION_UNKNOWN);
	assert_int_equal(bad, 0);
}

static const struct {
	const char		*kernel;
	enum kernel_class	 want;
} kernel_cases[] = {
	/* GE */
	{ "STANDARD", KERNEL_STANDARD },
	{ "SOFT", KERNEL_STANDARD },
	{ " standard ", KERNEL_STANDARD },
	{ "LUNG", KERNEL_SHARP },
	{ "BONE", KERNEL_SHARP },
	{ "BONEPLUS", KERNEL_SHARP },
	{ "EDGE", KERNEL_SHARP },
	{ "DETAIL", KERNEL_SHARP },
	/* Siemens */
	{ "B30f", KERNEL_STANDARD },
	{ "B31f", KERNEL_STANDARD },
	{ "b20s", KERNEL_STANDARD },
	{ "B40f", KERNEL_STANDARD },
	{ "Br36", KERNEL_STANDARD },
	{ "Br36\\3", KERNEL_STANDARD },
	{ "I30f\\2", KERNEL_STANDARD },
	{ "Qr36", KERNEL_STANDARD },
	{ "Sa36f", KERNEL_STANDARD },
	{ "B60f", KERNEL_SHARP },
	{ "B70f", KERNEL_SHARP },
	{ "Br64", KERNEL_SHARP },
	{ "I70f", KERNEL_SHARP },
	{ "Bl57", KERNEL_SHARP },
	/* Philips */
	{ "A", KERNEL_STANDARD },
	{ "B", KERNEL_STANDARD },
	{ "C", KERNEL_STANDARD },
	{ "L", KERNEL_SHARP },
	{ "YA", KERNEL_SHARP },
	{ "YB", KERNEL_SHARP },
	{ "D", KERNEL_SHARP },
	/* Canon/Toshiba */
	{ "FC01", KERNEL_STANDARD },
	{ "FC13", KERNEL_STANDARD },
	{ "FC18", KERNEL_STANDARD },
	{ "FC30", KERNEL_SHARP },
	{ "FC52", KERNEL_SHARP },
	{ "FC86", KERNEL_SHARP },
	{ "FL04", KERNEL_SHARP },
	/* United Imaging, words */
	{ "B_SOFT_B", KERNEL_STANDARD },
	{ "B_STANDARD", KERNEL_STANDARD },
	{ "B_SHARP_C", KERNEL_SHARP },
	{ "Body Sharp", KERNEL_SHARP },
	{ "BODY", KERNEL_STANDARD },
	/* Unknown */
	{ "", KERNEL_UNKNOWN },
	{ "K9", KERNEL_UNKNOWN },
	{ "FC", KERNEL_UNKNOWN },
	{ "B123f", KERNEL_UNKNOWN },
	{ "卷积核", KERNEL_UNKNOWN },
};

static void
test_kernel(void **state)
{
	size_t	 i;
	int	 bad = 0;

	(void)state;
	for (i = 0; i < sizeof(kernel_cases) / sizeof(kernel_cases[0]); i++)
		if (matcher_kernel_class(kernel_cases[i].kernel) !=
		    kernel_cases[i].want) {
			print_error("kernel \"%s\": %d, want %d\n",
			    kernel_cases[i].kernel,
			    matcher_kernel_class(kernel_cases[i].kernel),
			    kernel_cases[i].want);
			bad++;
		}
	assert_int_equal(matcher_kernel_class(NULL), KERNEL_UNKNOWN);
	assert_int_equal(bad, 0);
}

/* Which readers fit, as a bit set. */
static unsigned int
fit_set(const struct match_series *s, struct match_result res[READER__MAX])
{
	unsigned int	 bits = 0;
	int		 r, n;

	n = matcher_check_all(s, res);
	for (r = 0; r < READER__MAX; r++)
		if (res[r].fits)
			bits |= 1u << r;
	assert_int_equal(n, __builtin_popcount(bits));
	return bits;
}

#define BIT(r)	(1u << (r))

static void
test_lidc(void **state)
{
	struct match_series	 s;
	struct match_result	 res[READER__MAX];
	char			 buf[512];

	(void)state;
	base_series(BASE_CT, &s);
	assert_int_equal(fit_set(&s, res), BIT(NODULE) | BIT(PNEUMO) |
	    BIT(RIB) | BIT(BD) | BIT(CAC));
	assert_string_equal(res[TB].reason,
	    "检查类型为 CT，肺结核仅支持 DR（DX、CR）");
	assert_string_equal(res[LIMB].reason,
	    "检查类型为 CT，DR骨折仅支持 DR（DX、CR）");
	matcher_summary(&s, res, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

/*
 * Five contiguous LIDC slices cover 6.25 mm: too short for complete lungs,
 * two vertebrae or the heart, whatever the thickness says; the whole
 * series (326 mm) is not refused for its extent.
 */
static void
test_extent(void **state)
{
	struct match_series	 s;
	struct match_result	 res[READER__MAX];

	(void)state;
	base_series(BASE_CT, &s);
	/* Five images are no volume at all. */
	s.slices = 5;
	assert_int_equal(fit_set(&s, res), 0);
	assert_string_equal(res[CAC].reason, "仅 5 幅图像，冠脉钙化积分需要"
	    "连续的容积数据（不少于 10 层）");
	s.slices = 12;
	s.extent = 6.25;
	assert_int_equal(fit_set(&s, res), 0);
	assert_string_equal(res[CAC].reason, "扫描范围仅 6.25 mm，"
	    "不足以包含完整心脏，冠脉钙化积分要求包含完整心脏");
	assert_int_equal(res[CAC].rule, MATCH_HEART);
	assert_string_equal(res[NODULE].reason,
	    "扫描范围仅 6.25 mm，不足以包含完整肺部，肺结节要求包含完整肺部");
	assert_int_equal(res[NODULE].rule, MATCH_LUNGS);
	assert_string_equal(res[BD].reason, "扫描范围仅 6.25 mm，"
	    "不足以包含 2 个椎体，骨密度要求包含 T12、L1、L2 中不少于 2 个椎体");
	/* At the limits: 100 mm may hold lungs, 40 mm two vertebrae. */
	s.extent = 100;
	assert_int_equal(fit_set(&s, res) & BIT(NODULE), BIT(NODULE));
	s.extent = 99.9;
	assert_int_equal(fit_set(&s, res) & BIT(NODULE), 0);
	s.extent = 39.9;
	assert_int_equal(fit_set(&s, res) & BIT(BD), 0);
	s.extent = 40;
	assert_int_equal(fit_set(&s, res) & BIT(BD), BIT(BD));
	/* 60 mm may hold the heart. */
	s.extent = 59.9;
	assert_int_equal(fit_set(&s, res) & BIT(CAC), 0);
	s.extent = 60;
	assert_int_equal(fit_set(&s, res) & BIT(CAC), BIT(CAC));
	base_series(BASE_CT, &s);
	s.extent = 326.25;
	assert_int_equal(fit_set(&s, res), BIT(NODULE) | BIT(PNEUMO) |
	    BIT(RIB) | BIT(BD) | BIT(CAC));
	/* Lungs known complete win over a short extent estimate. */
	s.extent = 50;
	s.lungs_complete = TRI_YES;
	assert_int_equal(fit_set(&s, res) & BIT(NODULE), BIT(NODULE));
}

static void
test_chest_5mm(void **state)
{
	struct match_series	 s;
	struct match_result	 res[READER__MAX];

	(void)state;
	base_series(BASE_CT, &s);
	s.slice_thickness = 5;
	s.slice_spacing = 5;
	assert_int_equal(fit_set(&s, res), BIT(PNEUMO));
	assert_string_equal(res[NODULE].reason,
	    "层厚 5 mm，超过肺结节要求的 3 mm");
	assert_string_equal(res[NODULE].finding, "层厚 5 mm");
	assert_int_equal(res[NODULE].rule, MATCH_THICKNESS);
	assert_string_equal(res[RIB].reason,
	    "层厚 5 mm，超过CT骨折要求的 2 mm");
	assert_string_equal(res[BD].reason,
	    "层厚 5 mm，超过骨密度要求的 2.5 mm");
	assert_string_equal(res[CAC].reason,
	    "层厚 5 mm，超过冠脉钙化积分要求的 1.25 mm");
	assert_non_null(strstr(res[PNEUMO].notes,
	    "建议层厚/层间距 1.25 mm/1.25 mm"));
}

static void
test_dx_chest(void **state)
{
	struct match_series	 s;
	struct match_result	 res[READER__MAX];

	(void)state;
	/* NIH ChestX-ray14: DX, CHEST, PA; nothing else known. */
	matcher_series_init(&s);
	s.modality = "DX";
	s.body_part = "CHEST";
	s.view_position = "PA";
	assert_int_equal(fit_set(&s, res), BIT(TB));
	assert_string_equal(res[LIMB].reason,
	    "检查部位为胸部，DR骨折仅支持四肢");
	assert_string_equal(res[CAC].reason,
	    "检查类型为 DX，冠脉钙化积分仅支持 CT");
}

static void
test_cr_limb(void **state)
{
	struct match_series	 s;
	struct match_result	 res[READER__MAX];

	(void)state;
	base_series(BASE_CR, &s);
	assert_int_equal(fit_set(&s, res), BIT(LIMB));
	s.body_part = "";
	s.description = "TIBIA-ANKLE";
	assert_int_equal(fit_set(&s, res), BIT(LIMB));
	s.description = "右胫腓骨踝关节";
	assert_int_equal(fit_set(&s, res), BIT(LIMB));
}

static void
test_summary(void **state)
{
	struct match_series	 s;
	struct match_result	 res[READER__MAX];
	char			 buf[1024], small[40];
	size_t			 n;

	(void)state;
	base_series(BASE_CT, &s);
	s.body_part = "HEAD";
	s.slice_thickness = 5;
	s.slice_spacing = 5;
	assert_int_equal(matcher_check_all(&s, res), 0);
	matcher_summary(&s, res, buf, sizeof(buf));
	assert_string_equal(buf, "该序列（CT，头部）不符合任何AI应用的要求："
	    "检查部位为头部，不适用于肺结节、肺炎、CT骨折、骨密度、"
	    "冠脉钙化积分；"
	    "检查类型为 CT，不适用于肺结核、DR骨折。");

	/* Cut short at a character boundary. */
	matcher_summary(&s, res, small, sizeof(small));
	n = strlen(small);
	assert_true(n < sizeof(small));
	assert_true(n > 0);
	assert_int_equal(strncmp(small, buf, n), 0);
	assert_true(buf[n] == '\0' || ((unsigned char)buf[n] & 0xc0) != 0x80);
	matcher_summary(&s, res, small, 0);

	/* A chest CT too thick for all, grouped by finding. */
	base_series(BASE_CT, &s);
	s.slice_thickness = 8;
	s.slice_spacing = 8;
	assert_int_equal(matcher_check_all(&s, res), 0);
	matcher_summary(&s, res, buf, sizeof(buf));
	assert_string_equal(buf, "该序列（CT，胸部）不符合任何AI应用的要求："
	    "层厚 8 mm，不适用于肺结节、肺炎、CT骨折、骨密度、"
	    "冠脉钙化积分；"
	    "检查类型为 CT，不适用于肺结核、DR骨折。");

	/* Nothing known at all. */
	matcher_series_init(&s);
	assert_int_equal(matcher_check_all(&s, res), 0);
	matcher_summary(&s, res, buf, sizeof(buf));
	assert_string_equal(buf, "该序列（检查类型未知，部位未知）不符合任何AI"
	    "应用的要求：检查类型未知，不适用于肺结节、肺炎、CT骨折、肺结核、"
	    "DR骨折、骨密度、冠脉钙化积分。");
}

static void
test_long_values(void **state)
{
	struct match_series	 s;
	struct match_result	 res[READER__MAX];
	char			 big[600], buf[64];
	size_t			 i;

	(void)state;
	/* Chinese text longer than any buffer: cut, never overrun. */
	for (i = 0; i + 3 < sizeof(big); i += 3)
		memcpy(big + i, "骨", 3);
	big[i] = '\0';
	base_series(BASE_BD, &s);
	s.kernel = big;
	matcher_check(&s, READER_CT_BONE_DENSITY, &res[0]);
	assert_true(res[0].fits);
	assert_non_null(strstr(res[0].notes, "无法识别"));
	s.kernel = "BONE";
	s.modality = big;
	s.body_part = big;
	s.description = big;
	assert_int_equal(matcher_check_all(&s, res), 0);
	assert_true(strlen(res[0].reason) < sizeof(res[0].reason));
	matcher_summary(&s, res, buf, sizeof(buf));
	assert_true(strlen(buf) < sizeof(buf));
	assert_true(((unsigned char)buf[strlen(buf) - 1] & 0xc0) != 0xc0);
}

static void
test_tables(void **state)
{
	struct match_series	 s;
	struct match_result	 res;
	int			 r;

	(void)state;
	for (r = 0; r < READER__MAX; r++) {
		assert_non_null(readers[r].code);
		assert_non_null(readers[r].zh);
		assert_non_null(readers[r].short_zh);
		assert_int_equal(reader_lookup(readers[r].code), r);
	}
	assert_int_equal(reader_lookup("ct_lung_nodule"),
	    READER_CT_LUNG_NODULE);
	assert_int_equal(reader_lookup("ct_coronary_calcium"),
	    READER_CT_CORONARY_CALCIUM);
	assert_int_equal(reader_lookup("bogus"), -1);
	assert_int_equal(reader_lookup(NULL), -1);
	assert_string_equal(readers[READER_CT_BONE_DENSITY].zh,
	    "骨密度CT影像辅助诊断");
	assert_string_equal(readers[READER_CT_LUNG_NODULE].window_zh, "肺窗");
	for (r = 0; r < REGION__MAX; r++)
		assert_non_null(region_names_zh[r]);

	matcher_series_init(&s);
	assert_string_equal(s.modality, "");
	assert_true(isnan(s.slice_thickness) && isnan(s.slice_spacing) &&
	    isnan(s.kvp));
	assert_int_equal(s.vertebrae_t12_l2, -1);
	assert_int_equal(s.contrast, TRI_UNKNOWN);
	matcher_check(&s, READER__MAX, &res);
	assert_false(res.fits);
}

/* What descriptions and protocol names say of contrast, in Chinese and
 * English, as vendors and technologists write them. */
static void
test_contrast_text(void **state)
{
	static const struct {
		const char	*text;
		enum tristate	 want;
	} c[] = {
		{ "胸部增强", TRI_YES },
		{ "CT胸部增强扫描 动脉期", TRI_YES },
		{ "静脉期 1.25mm", TRI_YES },
		{ "门脉期", TRI_YES },
		{ "Chest C+", TRI_YES },
		{ "CHEST CE 1.25", TRI_YES },
		{ "CTA CORONARY", TRI_YES },
		{ "CHEST WITH IV CON", TRI_YES },
		{ "CT ANGIO PULMONARY", TRI_YES },
		{ "Thorax arterial 1.0 B30f", TRI_YES },
		{ "胸部平扫", TRI_NO },
		{ "2 Chest C-/Thorax", TRI_NO },
		{ "CHEST W/O CONTRAST", TRI_NO },
		{ "CT CHEST WITHOUT CONTRAST", TRI_NO },
		{ "NON-CON CHEST", TRI_NO },
		{ "Non-contrast chest", TRI_NO },
		{ "Calcium Score native", TRI_NO },
		{ "AThoraxRoutine", TRI_UNKNOWN },
		{ "Lung 1.25", TRI_UNKNOWN },
		/* Words inside other words are not words. */
		{ "ACE DICE CTAB", TRI_UNKNOWN },
		{ "", TRI_UNKNOWN },
		{ NULL, TRI_UNKNOWN },
		/* A study of two phases says both: its series decide. */
		{ "CHEST C-/C+", TRI_UNKNOWN },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (matcher_contrast_text(c[i].text) != c[i].want)
			fail_msg("\"%s\": %d, expected %d", c[i].text ?
			    c[i].text : "(null)", matcher_contrast_text(
			    c[i].text), c[i].want);
}

/*
 * ECG-gated calcium-score series: 3 mm, Agatston's own slices, accepted
 * by the calcium reader when their description says what they are, with
 * a note; the same thickness of another series is refused; nothing is
 * accepted beyond 3 mm, and no other reader takes the allowance.
 */
static void
test_gated_calcium(void **state)
{
	static const struct {
		const char	*desc;
		double		 mm;
		enum reader	 r;
		int		 fits;
	} c[] = {
		{ "Calcium Score 3.0 B35f", 3.0, READER_CT_CORONARY_CALCIUM, 1 },
		{ "CaSc 3mm Qr36", 3.0, READER_CT_CORONARY_CALCIUM, 1 },
		{ "冠脉钙化积分 2.5mm", 2.5, READER_CT_CORONARY_CALCIUM, 1 },
		{ "CACS", 3.0, READER_CT_CORONARY_CALCIUM, 1 },
		{ "Chest 3mm", 3.0, READER_CT_CORONARY_CALCIUM, 0 },
		{ "Calcium Score 5.0", 5.0, READER_CT_CORONARY_CALCIUM, 0 },
		{ "Calcium Score 3.0", 3.0, READER_CT_BONE_DENSITY, 0 },
		{ "Calcium Score 1.25", 1.25, READER_CT_CORONARY_CALCIUM, 1 },
	};
	struct match_series	 ms;
	struct match_result	 res;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		base_series(c[i].r == READER_CT_BONE_DENSITY ? BASE_BD :
		    BASE_CT, &ms);
		ms.description = c[i].desc;
		ms.slice_thickness = ms.slice_spacing = c[i].mm;
		ms.slices = (int)(150 / c[i].mm);
		ms.calcium_score = matcher_gated_text(c[i].desc);
		matcher_check(&ms, c[i].r, &res);
		if (res.fits != c[i].fits)
			fail_msg("%s at %.2f mm: fits %d (%s)", c[i].desc,
			    c[i].mm, res.fits, res.reason);
		if (res.fits && c[i].mm > 1.3)
			assert_non_null(strstr(res.notes, "心电门控钙化积分"));
		if (!res.fits)
			assert_non_null(strstr(res.reason, "mm"));
	}
	assert_int_equal(matcher_gated_text("Chest 1.25 STANDARD"), TRI_UNKNOWN);
	assert_int_equal(matcher_gated_text("CARDIAC CASCORE"), TRI_YES);
}

/* A modality that names no image type (OT of a scanned film, or none):
 * the application's 检查类型 decides, with a note; a known modality is
 * what the images are, whatever the application says. */
static void
test_exam_type(void **state)
{
	struct match_series	 ms;
	struct match_result	 res;

	(void)state;
	base_series(BASE_DX, &ms);
	ms.modality = "OT";
	matcher_check(&ms, READER_DR_TUBERCULOSIS, &res);
	assert_false(res.fits);
	assert_string_equal(res.reason, "检查类型为 OT，肺结核仅支持 DR（DX、CR）");
	ms.exam_type = "DR";
	matcher_check(&ms, READER_DR_TUBERCULOSIS, &res);
	assert_true(res.fits);
	assert_non_null(strstr(res.notes, "设备类型为 OT，按申请单检查类型（DR）判断"));
	ms.modality = "";
	matcher_check(&ms, READER_DR_TUBERCULOSIS, &res);
	assert_true(res.fits);
	assert_non_null(strstr(res.notes, "设备类型未记录，按申请单检查类型（DR）判断"));
	/* A CT application does not make a radiograph a CT. */
	ms.exam_type = "CT";
	matcher_check(&ms, READER_DR_TUBERCULOSIS, &res);
	assert_false(res.fits);
	base_series(BASE_DX, &ms);
	ms.exam_type = "CT";
	matcher_check(&ms, READER_DR_TUBERCULOSIS, &res);
	assert_true(res.fits);
	assert_null(strstr(res.notes, "申请单检查类型"));
	base_series(BASE_CT, &ms);
	ms.exam_type = "DR";
	matcher_check(&ms, READER_CT_LUNG_NODULE, &res);
	assert_true(res.fits);
	matcher_check(&ms, READER_DR_TUBERCULOSIS, &res);
	assert_false(res.fits);
}

/* Without BodyPartExamined, the application's 检查部位 tells the region:
 * a head CT asked for as 头颅 is refused by the chest readers; one with
 * nothing said anywhere is left to the reader's look at the image. */
static void
test_exam_part(void **state)
{
	struct match_series	 ms;
	struct match_result	 res;

	(void)state;
	base_series(BASE_CT, &ms);
	ms.body_part = "";
	ms.exam_part = "头颅";
	matcher_check(&ms, READER_CT_LUNG_NODULE, &res);
	assert_false(res.fits);
	assert_string_equal(res.reason, "检查部位为头部，肺结节仅支持胸部平扫、"
	    "胸腹连扫");
	ms.exam_part = "胸部";
	matcher_check(&ms, READER_CT_LUNG_NODULE, &res);
	assert_true(res.fits);
	assert_int_equal(matcher_region(&ms), REGION_CHEST);
	ms.exam_part = "";
	matcher_check(&ms, READER_CT_CORONARY_CALCIUM, &res);
	assert_true(res.fits);
	assert_non_null(strstr(res.notes, "阅片时按图像内容核对"));
	/* A radiograph with nothing said is not left to a reader that
	 * cannot tell a chest from a hand. */
	base_series(BASE_DX, &ms);
	ms.body_part = "";
	ms.lungs_complete = TRI_UNKNOWN;
	matcher_check(&ms, READER_DR_TUBERCULOSIS, &res);
	assert_false(res.fits);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_contrast_text),
		cmocka_unit_test(test_gated_calcium),
		cmocka_unit_test(test_exam_part),
		cmocka_unit_test(test_exam_type),
		cmocka_unit_test(test_region),
		cmocka_unit_test(test_kernel),
		cmocka_unit_test(test_lidc),
		cmocka_unit_test(test_extent),
		cmocka_unit_test(test_chest_5mm),
		cmocka_unit_test(test_dx_chest),
		cmocka_unit_test(test_cr_limb),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_long_values),
		cmocka_unit_test(test_tables),
	};

	return cmocka_run_group_tests_name("matcher", tests, NULL, NULL);
}
